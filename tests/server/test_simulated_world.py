"""The embedded default as a whole world, through the API with no RunPod key and no endpoints
set: a preset deploys with its models "downloaded" from the built-in hub stand-ins, a stop and
start finds them on the volume, and a gated preset needs a token with access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from comfyhangar.emulators.hub import DEMO_HF_TOKEN, NO_ACCESS_HF_TOKEN
from comfyhangar.server.services.presets import PRESETS
from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, read_events, running_hangar

pytestmark = pytest.mark.slow

SPEED = 50.0  # simulated seconds per real second: 34 GB at 500 MB/s take about 1.4 s


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Hangar]:
    settings = fast_settings(tmp_path, preflight=True, emulator_speed=SPEED)
    async with running_hangar(settings, timeout=20) as hangar:
        yield hangar


async def setup_runs(hangar: Hangar, dep_id: str) -> list[list[dict[str, Any]]]:
    """The deployment's setup_progress events, one list per agent run."""
    events = await read_events(hangar.base_url, hangar.runtime.events.last_id)
    runs: list[list[dict[str, Any]]] = []
    for event in events:
        data = event["data"]
        if event["type"] != "setup_progress" or event["deployment_id"] != dep_id:
            continue
        if (data["step"], data["status"]) == ("preflight", "started"):
            runs.append([])
        runs[-1].append(data)
    return runs


def setup_step(detail: dict[str, Any], name: str) -> dict[str, Any]:
    """One step of a deployment detail's `setup` list ({} when not reported yet)."""
    return next((s for s in detail["setup"] if s["step"] == name), {})


def models_step(run: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in run if p["step"] == "models"]


async def test_flux_schnell_deploys_downloads_from_the_stand_in_and_keeps_its_models_on_stop(
    world: Hangar,
) -> None:
    preset = PRESETS["flux-schnell"]
    body = {**FLUX_DEPLOY, "name": "schnell", "preset": "flux-schnell"}
    created = await world.http.post("/api/v1/deployments", json=body)
    assert created.status_code == 201, created.text
    dep_id = created.json()["id"]
    ready = await world.wait_for(dep_id, "ready", timeout=60)
    assert setup_step(ready, "models")["status"] == "done"

    await world.http.post(f"/api/v1/deployments/{dep_id}/stop")
    await world.wait_for(dep_id, "stopped", timeout=30)
    await world.http.post(f"/api/v1/deployments/{dep_id}/start")
    again = await world.wait_for(dep_id, "ready", timeout=60)
    assert setup_step(again, "models")["status"] == "skipped"
    assert setup_step(again, "models")["message"] == f"all {len(preset.models)} file(s) present"

    first, second = await setup_runs(world, dep_id)
    done = {p["item"] for p in models_step(first) if p["status"] == "done" and "item" in p}
    assert done == {m.name for m in preset.models}
    totals = [p["bytes_total"] for p in models_step(first) if p["status"] == "running"]
    assert totals[-1] == preset.total_bytes, "the hub's sizes"
    kept = {p["item"] for p in models_step(second) if p["status"] == "skipped" and "item" in p}
    assert kept == {m.name for m in preset.models}
    assert not [p for p in models_step(second) if p["status"] in ("running", "done")], (
        "no byte fetched again"
    )
    assert world.emulator.hub is world.runtime.cloud.hub


async def test_the_gated_preset_deploys_with_a_token_that_has_access(world: Hangar) -> None:
    body = {**FLUX_DEPLOY, "name": "dev", "preset": "flux-dev", "hf_token": DEMO_HF_TOKEN}
    created = await world.http.post("/api/v1/deployments", json=body)
    assert created.status_code == 201, created.text
    ready = await world.wait_for(created.json()["id"], "ready", timeout=60)
    assert setup_step(ready, "models")["status"] == "done"


async def test_without_preflight_a_token_without_access_fails_the_pods_models_step(
    tmp_path: Path,
) -> None:
    """The pod finds out as the real agent would: its models step fails with the agent's words,
    setup stops, and the deployment is failed with the reason (not installing forever)."""
    settings = fast_settings(tmp_path, preflight=False, emulator_speed=SPEED)
    async with running_hangar(settings, timeout=20) as hangar:
        body = {**FLUX_DEPLOY, "preset": "flux-dev", "hf_token": NO_ACCESS_HF_TOKEN}
        created = await hangar.http.post("/api/v1/deployments", json=body)
        assert created.status_code == 201, created.text
        dep_id = created.json()["id"]
        detail = await hangar.wait_for(dep_id, "installing", timeout=30)
        for _ in range(400):
            detail = (await hangar.http.get(f"/api/v1/deployments/{dep_id}")).json()
            if setup_step(detail, "ready").get("status") == "failed":
                break
            await hangar.cycles(1)
        assert setup_step(detail, "ready")["status"] == "failed"
        assert setup_step(detail, "models")["status"] == "failed"
        # The deployment says so, with the reason, and the pod is left for the user to act on.
        detail = await hangar.wait_for(dep_id, "failed", timeout=30)
        assert detail["reason"].startswith("setup failed: models: failed: flux1-dev.safetensors")
        assert "still runs and bills" in detail["reason"]
        assert detail["pod"]["status"] == "RUNNING"
        (run,) = await setup_runs(hangar, dep_id)
        errors = {p["item"]: p["error"] for p in models_step(run) if p["status"] == "failed"
                  and "item" in p}  # fmt: skip
        assert errors == {
            "flux1-dev.safetensors": "HTTP 403: access denied (gated model? check HF_TOKEN)"
        }
