"""The deploy progress display, fed events as the server sends them (no server needed)."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from comfyhangar.cli.follow import Tracker

GB = 1_000_000_000


def event(type: str, **data: Any) -> dict[str, Any]:
    return {"type": type, "deployment_id": "d1", "pod_id": "pod1", "data": data}


def render(tracker: Tracker, width: int = 120) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    console.print(tracker.render())
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def test_states_setup_steps_and_download_progress() -> None:
    tracker = Tracker({"id": "d1", "name": "flux"})
    tracker.snapshot({"state": "pending", "reason": None, "pod": None, "setup": []})
    lines = [
        tracker.apply(event("deployment_state", state="creating", previous="pending")),
        tracker.apply(
            event(
                "pod_created",
                gpu="NVIDIA GeForce RTX 4090",
                gpu_count=1,
                data_center_id="EU-RO-1",
                cost_per_hour="0.44",
            )
        ),
        tracker.apply(event("deployment_state", state="installing")),
        tracker.apply(event("setup_progress", step="preflight", status="started")),
        tracker.apply(event("setup_progress", step="preflight", status="done", bytes_total=8 * GB)),
        tracker.apply(event("setup_progress", step="models", status="started", items_total=2)),
        tracker.apply(
            event(
                "setup_progress",
                step="models",
                status="running",
                bytes_done=2 * GB,
                bytes_total=8 * GB,
                speed_bps=GB,
                eta_s=6.0,
                item="flux1-dev.safetensors",
            )
        ),
        tracker.apply(
            event(
                "setup_progress",
                step="models",
                status="running",
                bytes_done=2 * GB + 1,
                bytes_total=8 * GB,
                speed_bps=GB,
                eta_s=6.0,
            )
        ),
    ]
    assert lines[0] == "state: creating"
    assert lines[1] == "pod pod1 created: RTX 4090 in EU-RO-1, $0.44/h"
    assert lines[3] == "  preflight: started"
    assert lines[6] == "  models: 25% 2.0 GB / 8.0 GB at 1.0 GB/s, ETA 6s"
    assert lines[7] is None, "a download prints a line per quarter, not per event"

    live = render(tracker)
    assert "flux pending → creating → installing" in live
    assert "pod pod1  EU-RO-1  $0.44/h" in live
    assert "2.0 GB / 8.0 GB  1.0 GB/s  ETA 6s" in live
    assert "flux1-dev.safetensors" in live
    assert "━" in live, "a progress bar"

    assert tracker.apply(
        event("setup_progress", step="models", status="done", item="flux1-dev.safetensors")
    ) == ("  models: flux1-dev.safetensors done")
    assert tracker.state == "installing", "one file done is not the step done"
    tracker.apply(event("setup_progress", step="models", status="done"))
    tracker.apply(event("deployment_state", state="ready"))
    assert tracker.trail == ["pending", "creating", "installing", "ready"]
    assert "8.0 GB / 8.0 GB" in render(tracker)


def test_a_failure_keeps_its_reason_and_a_restart_clears_old_steps() -> None:
    tracker = Tracker({"id": "d1", "name": "flux"})
    tracker.snapshot({"state": "installing", "reason": None, "pod": None, "setup": []})
    tracker.apply(event("setup_progress", step="comfyui", status="failed", message="git clone"))
    assert tracker.apply(event("error", message="setup failed")) == "error: setup failed"
    line = tracker.apply(event("deployment_state", state="failed", reason="setup failed"))
    assert line == "state: failed (setup failed)"
    assert tracker.reason == "setup failed"
    assert "error: setup failed" in render(tracker)
    tracker.apply(event("deployment_state", state="restarting"))
    assert tracker.steps == {}


def downloading(eta_s: float) -> Tracker:
    tracker = Tracker({"id": "d1", "name": "flux-schnell"})
    tracker.snapshot({"state": "installing", "reason": None, "pod": None, "setup": []})
    tracker.apply(
        event("setup_progress", step="comfyui", status="done", message="ComfyUI at v0.3.60")
    )
    tracker.apply(
        event(
            "setup_progress",
            step="models",
            status="running",
            bytes_done=12 * GB,
            bytes_total=34 * GB,
            speed_bps=98_000_000,
            eta_s=eta_s,
            item="flux1-schnell.safetensors",
        )
    )
    return tracker


def test_the_download_bar_keeps_bytes_speed_eta_and_file_whole_at_80_columns() -> None:
    live = render(downloading(242.0), width=80)
    lines = live.splitlines()
    assert all(len(line) <= 80 for line in lines)
    (bar_line,) = [line for line in lines if "━" in line]
    assert bar_line.startswith("● models ")
    assert bar_line.rstrip().endswith("12.0 GB / 34.0 GB  98.0 MB/s  ETA 4m 02s"), bar_line
    assert any(line.strip() == "flux1-schnell.safetensors" for line in lines)
    assert "…" not in live


def test_on_a_narrower_terminal_the_amounts_go_under_the_bar() -> None:
    lines = render(downloading(242.0), width=60).splitlines()
    at = next(i for i, line in enumerate(lines) if "━" in line)
    assert lines[at + 1].strip() == "12.0 GB / 34.0 GB  98.0 MB/s  ETA 4m 02s"
    assert lines[at + 2].strip() == "flux1-schnell.safetensors"


def test_a_step_shows_its_latest_words_not_an_earlier_lines() -> None:
    tracker = Tracker({"id": "d1", "name": "flux"})
    tracker.snapshot({"state": "installing", "reason": None, "pod": None, "setup": []})
    tracker.apply(event("setup_progress", step="models", status="started", items_total=4))
    tracker.apply(
        event("setup_progress", step="models", status="running", message="downloading 4 file(s)")
    )
    done = tracker.apply(event("setup_progress", step="models", status="done", items_total=4))
    assert done == "  models: done"
    assert "downloading 4 file(s)" not in render(tracker)
    failed = tracker.apply(
        event("setup_progress", step="start", status="failed", error="ComfyUI exited with code 1")
    )
    assert failed == "  start: failed - ComfyUI exited with code 1"
