"""Setup steps move forward only within one run of the agent; a new run starts afresh."""

from __future__ import annotations

from typing import Any

import pytest

from comfyhangar.core.setup_progress import fold_progress, moves_forward, setup_failure


def line(step: str, status: str, run: str | None = "r1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"v": 1, "step": step, "status": status, "time": "t", **fields}
    if run is not None:
        body["run"] = run
    return body


def whole_run(run: str | None = "r1") -> list[dict[str, Any]]:
    return [
        line("preflight", "started", run),
        line("preflight", "done", run),
        line("models", "started", run, items_total=1),
        line("models", "running", run, item="a.bin", bytes_done=5, bytes_total=10),
        line("models", "done", run, item="a.bin"),  # one file's done, not the step's
        line("models", "done", run, items_total=1),
        line("start", "started", run),
        line("start", "done", run),
        line("ready", "done", run),
    ]


def statuses(setup: dict[str, Any]) -> dict[str, str]:
    return {step: entry["status"] for step, entry in setup.items()}


class TestForwardOnly:
    def test_a_line_after_ready_does_not_move_models_back(self) -> None:
        late = line("models", "running", item="a.bin", bytes_done=7, bytes_total=10)
        fold = fold_progress(None, [*whole_run(), late])
        assert fold.setup["models"]["status"] == "done"
        assert fold.ready
        assert late not in fold.accepted
        # the same when the late line comes in a later batch
        again = fold_progress(fold.setup, [late, line("models", "started")])
        assert statuses(again.setup) == statuses(fold.setup)
        assert again.accepted == []
        assert not again.new_run

    def test_every_line_of_a_proper_run_counts(self) -> None:
        lines = whole_run()
        fold = fold_progress(None, lines)
        assert fold.accepted == lines
        assert statuses(fold.setup) == {
            "preflight": "done", "models": "done", "start": "done", "ready": "done",
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("current", "status", "ok"),
        [
            (None, "running", True),
            ("started", "running", True),
            ("running", "running", True),  # progress updates
            ("running", "started", False),
            ("started", "started", False),
            ("running", "done", True),
            ("done", "running", False),
            ("done", "started", False),
            ("skipped", "running", False),
            ("done", "failed", True),  # ComfyUI exited after ready: start fails
            ("failed", "done", False),
            ("failed", "failed", False),
        ],
    )
    def test_moves(self, current: str | None, status: str, ok: bool) -> None:
        assert moves_forward(current, status) is ok

    def test_a_late_failure_is_shown(self) -> None:
        fold = fold_progress(None, [*whole_run(), line("start", "failed", error="exited 3")])
        assert fold.setup["start"]["status"] == "failed"
        assert fold.setup["ready"]["status"] == "done"

    def test_item_lines_count_but_leave_the_step(self) -> None:
        fold = fold_progress(None, whole_run())
        broken = line("custom_nodes", "failed", item="node-broken")
        again = fold_progress(fold.setup, [broken])
        assert again.accepted == [broken]
        assert "custom_nodes" not in again.setup


class TestRuns:
    def test_a_new_run_starts_afresh(self) -> None:
        first = fold_progress(None, whole_run("r1"))
        second = fold_progress(first.setup, [line("preflight", "started", "r2")])
        assert second.new_run
        assert statuses(second.setup) == {"preflight": "started"}
        assert not second.ready
        assert second.setup["preflight"]["run"] == "r2"

    def test_a_new_run_then_ready_in_one_batch(self) -> None:
        first = fold_progress(None, whole_run("r1"))
        second = fold_progress(first.setup, whole_run("r2"))
        assert second.new_run
        assert second.ready
        assert second.accepted == whole_run("r2")

    def test_lines_without_a_run_id_start_a_run_at_preflight(self) -> None:
        first = fold_progress(None, whole_run(None))
        late = fold_progress(first.setup, [line("models", "running", None, bytes_done=1)])
        assert late.accepted == []
        assert not late.new_run
        again = fold_progress(first.setup, [line("preflight", "started", None)])
        assert again.new_run
        assert statuses(again.setup) == {"preflight": "started"}


def test_a_run_that_stopped_says_which_steps_failed_and_why() -> None:
    lines = [
        {"step": "models", "status": "started", "run": "r1"},
        {"step": "models", "status": "failed", "error": "failed: flux1-dev.safetensors", "run": "r1"},
        {"step": "ready", "status": "failed", "message": "setup stopped: step models failed", "run": "r1"},
    ]  # fmt: skip
    setup = fold_progress({}, lines).setup
    assert setup["models"]["message"] == "failed: flux1-dev.safetensors"
    assert setup_failure(setup) == "models: failed: flux1-dev.safetensors"
    assert setup_failure(fold_progress({}, lines[:2]).setup) is None, "not stopped yet"
    ended_well = fold_progress({}, [{"step": "ready", "status": "done", "run": "r1"}]).setup
    assert setup_failure(ended_well) is None
    only_ready = fold_progress({}, lines[2:]).setup
    assert setup_failure(only_ready) == "setup stopped: step models failed"
