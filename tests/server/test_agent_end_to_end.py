"""End to end: a deployment through the server, whose pod runs the real agent (emulator agent mode).

The embedded emulator runs in agent mode: the pod the server creates carries the agent bundle
and the manifest (`pod_spec.create_request`), the emulator runs that agent in a sandbox against
local stand-ins (git repositories, wheels, a fake Hugging Face, a fake ComfyUI), and the agent's
real progress lines come back through RunPod's log stream as `setup_progress` events until the
deployment is `ready`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import comfyhangar.server.cloud as cloud_module
from comfyhangar.emulators.runpod import AgentSandbox, EmulatorConfig
from tests.agent.conftest import (  # noqa: F401
    Repos,
    gated_model_manifest,
    hub,
    pod_python,
    repos,
    wheels,
)
from tests.agent.fakehub import FakeHub
from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, read_events, running_hangar

pytestmark = pytest.mark.slow


@pytest.fixture
async def agent_hangar(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hub: FakeHub,  # noqa: F811
    pod_python: str,  # noqa: F811
    wheels: Path,  # noqa: F811
) -> AsyncIterator[Hangar]:
    sandbox = AgentSandbox(
        base_dir=tmp_path / "pods",
        args=("--python", pod_python, "--no-gpu-ok", "--backoff", "0.05",
              "--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}"),
        stop_grace_s=5.0,
    )  # fmt: skip
    config = EmulatorConfig(
        provisioning_s=0.3, starting_s=0.5, restart_s=0.3, setup="agent", agent_sandbox=sandbox
    )
    monkeypatch.setattr(cloud_module, "EMBEDDED_CONFIG", config)
    settings = fast_settings(
        tmp_path, emulator_speed=1.0, insecure_allow_http=True,
        allowed_download_hosts="127.0.0.1", hf_endpoint=hub.hub_url,
        civitai_endpoint=hub.hub_url,
    )  # fmt: skip
    async with running_hangar(settings) as hangar:
        try:
            yield hangar
        finally:
            await hangar.emulator.aclose()


async def test_deploy_runs_the_real_agent_and_its_progress_reaches_ready(
    agent_hangar: Hangar,
    repos: Repos,  # noqa: F811
    hub: FakeHub,  # noqa: F811
) -> None:
    data = os.urandom(1 << 20)
    manifest = gated_model_manifest(repos, hub, data)
    body = {**FLUX_DEPLOY, "manifest": manifest, "hf_token": hub.token}
    created = await agent_hangar.http.post("/api/v1/deployments", json=body)
    assert created.status_code == 201, created.text
    dep_id = created.json()["id"]

    ready = await agent_hangar.wait_for(dep_id, "ready", timeout=60)
    pod_id = ready["pod"]["id"]
    run = agent_hangar.emulator.agent_run(pod_id)
    assert run is not None, "the emulator ran the pod's own agent"
    assert run.pid is not None
    assert run.returncode is None, "the agent keeps serving"
    model = run.workspace / "ComfyUI/models/checkpoints/model.safetensors"
    assert model.read_bytes() == data

    events = await read_events(agent_hangar.base_url, agent_hangar.runtime.events.last_id)
    progress = [
        e["data"] for e in events if e["type"] == "setup_progress" and e["deployment_id"] == dep_id
    ]
    steps = [(p["step"], p["status"]) for p in progress if p.get("item") is None]
    for step in ("preflight", "comfyui", "custom_nodes", "models", "start"):
        assert (step, "done") in steps, steps
    assert steps[-1] == ("ready", "done")
    items = {(p.get("item"), p["status"]) for p in progress}
    assert ("node-good", "done") in items
    assert ("model.safetensors", "done") in items
    assert all(hub.token not in str(p) for p in progress)
