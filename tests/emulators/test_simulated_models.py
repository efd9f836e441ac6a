"""The models step of simulated pods against the hub stand-ins: sizes from the hub, refusals as
the real agent words them, simulated time for the bytes, and files that stay on the volume."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from comfyhangar.agent.download import Downloader, DownloadOptions
from comfyhangar.agent.manifest import parse_manifest
from comfyhangar.agent.protocol import Reporter, parse_progress_line
from comfyhangar.agent.sources import Sources
from comfyhangar.emulators.hub import DEMO_HF_TOKEN, NO_ACCESS_HF_TOKEN
from tests.emulators.simworld import (
    AE_SIZE,
    BANDWIDTH,
    DEV,
    SCHNELL,
    SETUP,
    TO_RUNNING,
    World,
    create,
    hf,
    progress,
    step,
)


async def test_sizes_come_from_the_hub_and_take_simulated_time_at_the_bandwidth(
    world: World,
) -> None:
    handle, client, _ = world
    pod_id = await create(client, [hf(SCHNELL, "ae.safetensors")])  # no size in the manifest
    download_s = AE_SIZE / BANDWIDTH
    handle.emu.clock.advance(TO_RUNNING + SETUP + download_s - 0.5)
    assert ("done", None) not in step(progress(handle, pod_id), "ready"), "still downloading"
    handle.emu.clock.advance(1.0)
    bodies = progress(handle, pod_id)
    assert step(bodies, "ready") == [("done", None)]
    running = [b for b in bodies if b["step"] == "models" and b["status"] == "running"]
    assert running[-1]["bytes_done"] == running[-1]["bytes_total"] == AE_SIZE
    assert running[-1]["speed_bps"] == BANDWIDTH
    (ready,) = [b for b in bodies if b["step"] == "ready"]
    (started,) = [b for b in bodies if b["step"] == "preflight" and b["status"] == "started"]
    took = _seconds(ready["time"]) - _seconds(started["time"])
    assert abs(took - (SETUP + download_s)) < 0.01


async def test_refused_files_fail_the_models_step_with_the_real_agents_messages(
    world: World, tmp_path: Path
) -> None:
    handle, client, hub = world
    models = [
        hf(SCHNELL, "ae.safetensors"),
        hf(DEV, "flux1-dev.safetensors", "diffusion_models"),
        hf(SCHNELL, "nope.safetensors"),
        hf(SCHNELL, "ae.safetensors", "loras", name="ae-small.safetensors", size=123),
    ]
    pod_id = await create(client, models)
    handle.emu.clock.advance(TO_RUNNING + SETUP + AE_SIZE / BANDWIDTH + 1)
    bodies = progress(handle, pod_id)
    simulated = {b["item"]: b["error"] for b in bodies if b["status"] == "failed" and "item" in b}
    assert simulated == {
        "flux1-dev.safetensors": "HTTP 401: access denied (gated model? check HF_TOKEN)",
        "nope.safetensors": f"HTTP 404 from {hub.hf_url.removeprefix('http://')}",
        "ae-small.safetensors": "size differs: the manifest says 123 bytes, Hugging Face "
        f"publishes {AE_SIZE}",
    }
    assert ("done", "ae.safetensors") in step(bodies, "models"), "the good file still comes"
    steps = [(b["step"], b["status"]) for b in bodies if "item" not in b]
    assert steps[-2:] == [("models", "failed"), ("ready", "failed")]
    assert not any(b["step"] == "start" for b in bodies)

    # The real agent, against the same stand-ins, says the same of the same files.
    out = io.StringIO()
    specs = list(parse_manifest({"version": 1, "models": models[1:]}).models)
    options = DownloadOptions(allow_http=True, backoff_s=0.01)
    downloader = Downloader(Reporter(out), Sources(hub.hf_url), tmp_path, options)
    await asyncio.to_thread(downloader.run, specs, tmp_path / "models")
    real = [parse_progress_line(line) for line in out.getvalue().splitlines()]
    agent = {p["item"]: p["error"] for p in real if p and p["status"] == "failed" and "item" in p}
    assert agent == simulated


async def test_a_gated_file_needs_a_token_with_access(world: World) -> None:
    handle, client, _ = world
    gated = [hf(DEV, "ae.safetensors")]
    denied = await create(client, gated, {"HF_TOKEN": NO_ACCESS_HF_TOKEN})
    allowed = await create(client, gated, {"HF_TOKEN": DEMO_HF_TOKEN})
    handle.emu.clock.advance(TO_RUNNING + SETUP + AE_SIZE / BANDWIDTH + 1)
    errors = [b.get("error") for b in progress(handle, denied) if b["status"] == "failed"]
    assert errors[0] == "HTTP 403: access denied (gated model? check HF_TOKEN)"
    assert step(progress(handle, allowed), "ready") == [("done", None)]


async def test_a_plain_url_source_is_not_reachable_in_the_simulated_cloud(world: World) -> None:
    handle, client, _ = world
    url = {"folder": "loras", "name": "x.safetensors",
           "source": {"type": "url", "url": "https://github.com/o/r/x.safetensors"}}  # fmt: skip
    pod_id = await create(client, [url])
    handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
    errors = [
        b["error"] for b in progress(handle, pod_id) if b["status"] == "failed" and "item" in b
    ]
    assert errors == [
        "github.com: not reachable from the simulated cloud, which simulates only Hugging Face "
        "and Civitai"
    ]


def _seconds(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
