"""The agent's own idle guard in agent mode: the real agent in a simulated pod, told its limit
by one look of "the server" through its token proxy, then the server is gone; the agent stops
its own pod with the pod-scoped key the emulator gave it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from comfyhangar.agent.idle_switch import LIMIT_HEADER
from comfyhangar.agent.pack import pod_launch
from tests.agent.conftest import (  # noqa: F401
    POD_TOKEN,
    Repos,
    gated_model_manifest,
    hub,
    pod_python,
    repos,
    wheels,
)
from tests.agent.fakehub import FakeHub
from tests.emulators.conftest import pod_body
from tests.emulators.test_agent_mode import _follow_until, agent_emulator_at
from tests.support.runpod_emulator import EmulatorHandle

pytestmark = pytest.mark.slow


@pytest.fixture
async def agent_emulator(
    tmp_path: Path,
    hub: FakeHub,  # noqa: F811
    pod_python: str,  # noqa: F811
    wheels: Path,  # noqa: F811
) -> AsyncIterator[EmulatorHandle]:
    env: dict[str, str] = {}  # the emulator's own URL, once it listens
    async with agent_emulator_at(
        tmp_path, hub, pod_python, wheels, seed=12, agent_extra=("--idle-check-s", "0.2"), env=env
    ) as running:
        env["HANGAR_RUNPOD_API_URL"] = running.base_url
        yield running


async def test_the_agent_stops_its_own_pod_when_the_server_is_gone(
    agent_emulator: EmulatorHandle,
    repos: Repos,  # noqa: F811
    hub: FakeHub,  # noqa: F811
) -> None:
    emu = agent_emulator.emu
    launch = pod_launch(gated_model_manifest(repos, hub, os.urandom(1 << 16)))
    env = {
        **launch.env, "HANGAR_DEPLOYMENT_ID": "dep-1", "HANGAR_POD_TOKEN": POD_TOKEN,
        "HF_TOKEN": hub.token, "CIVITAI_TOKEN": hub.civitai_token,
    }  # fmt: skip
    async with agent_emulator.client(timeout=10) as client:
        mine = (await client.post("/pods", json=pod_body(env=env, args=launch.args))).json()["id"]
        other = (await client.post("/pods", json=pod_body())).json()["id"]
        await _follow_until(client, mine, "ready")
        run = emu.agent_run(mine)
        assert run is not None
        assert run.proxy_port is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{run.proxy_port}") as pod:
            # The server's guard looks once, with a limit of 2 s; ComfyUI never sees the header.
            seen = await pod.get("/headers", headers={"X-Hangar-Token": POD_TOKEN, LIMIT_HEADER: "2"})  # fmt: skip
            assert LIMIT_HEADER not in seen.json()
        # ... and is gone. The agent stops its own pod (and only its own).
        async with asyncio.timeout(30):
            while (await client.get(f"/pods/{mine}")).json()["status"] != "EXITED":
                await asyncio.sleep(0.1)
        assert (await client.get(f"/pods/{other}")).json()["status"] == "RUNNING"
        lines = [line.line for line in emu.pod_record(mine).logs.lines]
        assert any("stopping this pod" in line for line in lines), lines[-10:]
        assert not any(emu.pod_key(mine) in line for line in lines)
