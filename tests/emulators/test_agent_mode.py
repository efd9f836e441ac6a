"""Agent mode: a pod carrying `HANGAR_AGENT_BUNDLE` runs the real agent in a sandbox.

The pod is created through the emulator's HTTP API with `pack.pod_launch()`'s env and args and a
manifest pointing at local stand-ins (git repositories, wheels, a fake hub, a fake ComfyUI); its
log SSE must carry the agent's real progress lines up to `ready`, stop must kill the agent and
its ComfyUI, and a start must reuse the sandbox (everything skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.agent.pack import pod_launch
from comfyhangar.agent.protocol import parse_progress_line
from comfyhangar.emulators.runpod import AgentSandbox, EmulatorConfig
from comfyhangar.emulators.runpod.agent_runs import agent_args
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
from tests.emulators.conftest import KEY, pod_body
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

pytestmark = pytest.mark.slow

Event = tuple[str, dict[str, str]]


@contextlib.asynccontextmanager
async def agent_emulator_at(
    tmp_path: Path,
    hub: FakeHub,  # noqa: F811
    pod_python: str,  # noqa: F811
    wheels: Path,  # noqa: F811
    *,
    seed: int,
    agent_extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> AsyncIterator[EmulatorHandle]:
    """The RunPod emulator in agent mode: each pod runs the real agent against the fake hub,
    offline (`agent_extra`: more agent flags; `env`: the agents' extra environment, which the
    caller may fill once the emulator listens)."""
    sandbox = AgentSandbox(
        base_dir=tmp_path / "pods",
        args=(
            "--python", pod_python, "--insecure-allow-http", "--allow-host", "127.0.0.1",
            "--hf-endpoint", hub.hub_url, "--civitai-endpoint", hub.hub_url, "--no-gpu-ok",
            "--backoff", "0.05", "--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}",
            *agent_extra,
        ),
        env=env if env is not None else {},
        stop_grace_s=5.0,
    )  # fmt: skip
    config = EmulatorConfig(
        api_key=KEY, seed=seed, provisioning_s=0.2, starting_s=0.3, restart_s=0.2,
        setup="agent", agent_sandbox=sandbox,
    )  # fmt: skip
    async with emulator_server(config) as running:
        try:
            yield running
        finally:
            await running.emu.aclose()


@pytest.fixture
async def agent_emulator(
    tmp_path: Path,
    hub: FakeHub,  # noqa: F811
    pod_python: str,  # noqa: F811
    wheels: Path,  # noqa: F811
) -> AsyncIterator[EmulatorHandle]:
    async with agent_emulator_at(tmp_path, hub, pod_python, wheels, seed=11) as running:
        yield running


async def _follow_until(
    client: httpx.AsyncClient, pod_id: str, want: str, last_id: str = "", timeout: float = 50
) -> list[Event]:
    """Read the log SSE (after `last_id`) until a progress line with step `want` arrives."""
    got: list[Event] = []
    headers = {"Last-Event-ID": last_id} if last_id else {}
    async with asyncio.timeout(timeout):
        async with client.stream(
            "GET", f"/pods/{pod_id}/logs", params={"tail": 5000}, headers=headers,
            timeout=httpx.Timeout(timeout),
        ) as resp:  # fmt: skip
            assert resp.status_code == 200
            event_id = ""
            async for line in resp.aiter_lines():
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    got.append((event_id, json.loads(line[6:])))
                    body = parse_progress_line(got[-1][1]["line"])
                    if body and body["step"] == want:
                        return got
    raise AssertionError(got)  # pragma: no cover


def _progress(events: list[Event]) -> list[dict[str, Any]]:
    return [b for _, d in events if (b := parse_progress_line(d["line"]))]


def _statuses(lines: list[dict[str, Any]], step: str, item: str | None = None) -> list[str]:
    return [p["status"] for p in lines if p["step"] == step and p.get("item") == item]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


async def _wait_gone(pid: int, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while _alive(pid):
            await asyncio.sleep(0.05)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


async def test_pod_runs_real_agent_streams_progress_and_stop_kills_it(
    agent_emulator: EmulatorHandle,
    repos: Repos,  # noqa: F811
    hub: FakeHub,  # noqa: F811
) -> None:
    emu = agent_emulator.emu
    data = os.urandom(2 << 20)
    launch = pod_launch(gated_model_manifest(repos, hub, data))
    env = {
        **launch.env, "HANGAR_DEPLOYMENT_ID": "dep-1", "HANGAR_POD_TOKEN": POD_TOKEN,
        "HF_TOKEN": hub.token, "CIVITAI_TOKEN": hub.civitai_token,
    }  # fmt: skip
    os.environ["HANGAR_TEST_SECRET_NOT_FOR_PODS"] = "leak-me-not"
    try:
        async with agent_emulator.client(timeout=10) as client:
            created = await client.post("/pods", json=pod_body(env=env, args=launch.args))
            assert created.status_code == 201, created.text
            pod_id = created.json()["id"]

            events = await _follow_until(client, pod_id, "ready")
            run = emu.agent_run(pod_id)
            assert run is not None
            assert run.pid is not None
            assert run.proxy_port is not None
            assert run.comfyui_port is not None
            lines = _progress(events)
            assert _statuses(lines, "ready") == ["done"], events
            for step in ("preflight", "comfyui", "custom_nodes", "models"):
                assert _statuses(lines, step)[-1] == "done", (step, events)
            assert _statuses(lines, "custom_nodes", "node-good")[-1] == "done"
            assert _statuses(lines, "models", "model.safetensors")[-1] == "done"
            assert all(d["source"] == "container" for _, d in events if "##hangar" in d["line"])
            texts = [d["line"] for _, d in events]
            assert any(t.startswith("[hangar] agent starting") for t in texts)
            assert not any(s in t for t in texts for s in (hub.token, POD_TOKEN)), texts
            model = run.workspace / "ComfyUI/models/checkpoints/model.safetensors"
            assert model.read_bytes() == data
            environ = Path(f"/proc/{run.pid}/environ").read_bytes().split(b"\0")
            assert b"HANGAR_DEPLOYMENT_ID=dep-1" in environ
            assert not any(e.startswith(b"HANGAR_TEST_SECRET") for e in environ)

            # The token proxy of the pod answers (401 without the token, 200 with it).
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{run.proxy_port}") as px:
                assert (await px.get("/system_stats")).status_code == 401
                ok = await px.get("/system_stats", headers={"X-Hangar-Token": POD_TOKEN})
                assert ok.status_code == 200

            # Ids resume: after the event before `ready`, the next one is `ready`.
            resumed = await _follow_until(client, pod_id, "ready", last_id=events[-2][0])
            assert resumed[0] == events[-1]

            # Stop kills the agent and its ComfyUI; the sandbox survives.
            stopped = await client.post(f"/pods/{pod_id}/action", json={"action": "stop"})
            assert stopped.status_code == 200, stopped.text
            await _wait_gone(run.pid)
            assert _refused(run.comfyui_port)
            assert _refused(run.proxy_port)
            assert model.is_file()

            # Start again: a new run in the same sandbox skips what is done.
            last_id = emu.pod_record(pod_id).logs.lines[-1].event_id
            hub.requests.clear()
            started = await client.post(f"/pods/{pod_id}/action", json={"action": "start"})
            assert started.status_code == 200, started.text
            again = _progress(await _follow_until(client, pod_id, "ready", last_id=last_id))
            assert _statuses(again, "ready") == ["done"]
            assert _statuses(again, "models")[-1] == "skipped"
            assert _statuses(again, "comfyui")[-1] == "skipped"
            assert [r for r in hub.requests if r[0] == "cdn"] == []
            second = emu.agent_run(pod_id)
            assert second is not None
            assert second.pid is not None
            assert second.pid != run.pid

            # Restart: the running agent is killed and a new one comes to `ready`.
            last_id = emu.pod_record(pod_id).logs.lines[-1].event_id
            restarted = await client.post(f"/pods/{pod_id}/action", json={"action": "restart"})
            assert restarted.status_code == 200, restarted.text
            third = _progress(await _follow_until(client, pod_id, "ready", last_id=last_id))
            assert _statuses(third, "ready") == ["done"]
            assert not _alive(second.pid)
            latest = emu.agent_run(pod_id)
            assert latest is not None
            assert latest.pid not in (None, second.pid)

            # Terminate kills it and removes the sandbox.
            assert (await client.delete(f"/pods/{pod_id}")).status_code in (200, 204)
            await _wait_gone(latest.pid)
            await emu.aclose()
            assert not latest.sandbox.exists()
    finally:
        os.environ.pop("HANGAR_TEST_SECRET_NOT_FOR_PODS", None)


def test_agent_args_map_the_pod_paths_into_the_sandbox(tmp_path: Path) -> None:
    launch = pod_launch({"version": 1}, extra_args=["--skip-start", "--comfyui-dir=/workspace/C"])
    mapped = agent_args(launch.args, tmp_path / "agent", tmp_path / "ws")
    assert mapped == [
        "run", "--manifest", f"{tmp_path}/agent/manifest.json", "--root", f"{tmp_path}/ws",
        "--stay-on-failure", "--skip-start", f"--comfyui-dir={tmp_path}/ws/C",
    ]  # fmt: skip
    default = ["run", "--manifest", f"{tmp_path}/agent/manifest.json", "--root", f"{tmp_path}/ws"]
    assert agent_args("bash -c 'rm -rf /'", tmp_path / "agent", tmp_path / "ws") == default
    assert agent_args("'unterminated", tmp_path / "agent", tmp_path / "ws") == default


def test_agent_mode_needs_a_sandbox() -> None:
    with pytest.raises(ValueError, match="agent_sandbox"):
        EmulatorConfig(setup="agent")


async def test_stopped_before_running_never_starts_and_bad_bundles_are_reported(
    tmp_path: Path,
) -> None:
    sandbox = AgentSandbox(base_dir=tmp_path / "pods", stop_grace_s=1.0)
    config = EmulatorConfig(
        api_key=KEY, seed=3, provisioning_s=0.5, starting_s=0.2, setup="agent",
        agent_sandbox=sandbox,
    )  # fmt: skip
    launch = pod_launch({"version": 1})
    async with emulator_server(config) as running, running.client(timeout=10) as client:
        emu = running.emu
        try:
            early = await client.post("/pods", json=pod_body(env=launch.env, args=launch.args))
            plain = await client.post("/pods", json=pod_body())
            bad = await client.post(
                "/pods", json=pod_body(env={"HANGAR_AGENT_BUNDLE": "bm90IGEgemlw"})
            )
            early_id, plain_id, bad_id = (r.json()["id"] for r in (early, plain, bad))
            stop = await client.post(f"/pods/{early_id}/action", json={"action": "stop"})
            assert stop.status_code == 200
            async with asyncio.timeout(10):
                while not any(
                    "cannot unpack" in ln.line for ln in emu.pod_record(bad_id).logs.lines
                ):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            early_run = emu.agent_run(early_id)
            assert early_run is not None
            assert early_run.pid is None, "a pod stopped before RUNNING runs no agent"
            assert not (tmp_path / "pods" / early_id / "agent").exists()
            assert emu.agent_run(plain_id) is None, "no bundle, no agent"
            bad_run = emu.agent_run(bad_id)
            assert bad_run is not None
            assert bad_run.pid is None
        finally:
            await emu.aclose()
