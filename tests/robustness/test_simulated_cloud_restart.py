"""A `comfyhangar serve` on the simulated cloud, SIGKILLed and started again, finds the cloud
where it left it: same pods, still running and billing through the downtime, a stop it had
made still made, the balance not reset, and every log line exactly once.

The server is a real subprocess with no RunPod key, so its embedded emulator (the simulated
cloud) dies with it and comes back from `$HANGAR_DATA_DIR/simulated-cloud/`. After the last
stop the test opens that file itself to read the cloud's own record of pods, phases and logs.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.runpod.provisioning import DEPLOYMENT_ENV
from comfyhangar.server.cloud import simulated_cloud_state
from comfyhangar.server.settings import Settings
from tests.robustness.support import ServerProcess, deployment_body, server_env
from tests.support.auth import auth_headers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

FROZEN = 1e-9


async def detail(http: httpx.AsyncClient, dep_id: str) -> dict[str, Any]:
    response = await http.get(f"/api/v1/deployments/{dep_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_until(
    http: httpx.AsyncClient,
    dep_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 45.0,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    try:
        async with asyncio.timeout(timeout):
            while not done(body := await detail(http, dep_id)):
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{dep_id} never got there: {body}") from None
    return body


def in_state(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: body.get("state") == state


def setting_up(body: dict[str, Any]) -> bool:
    """Past the first setup step, not yet ready: the pod is printing its setup lines."""
    steps = {s["step"]: s["status"] for s in body.get("setup", [])}
    return body.get("state") == "installing" and steps.get("comfyui") in ("running", "done")


async def deploy(http: httpx.AsyncClient, name: str) -> str:
    created = await http.post("/api/v1/deployments", json=deployment_body(name))
    assert created.status_code == 201, created.text
    dep_id: str = created.json()["id"]
    return dep_id


async def balance(http: httpx.AsyncClient) -> float:
    summary = (await http.get("/api/v1/costs/summary")).json()
    assert summary["balance_usd"] is not None, summary
    return float(summary["balance_usd"])


async def log_lines(http: httpx.AsyncClient, dep_id: str) -> list[tuple[datetime, str, str]]:
    body = (await http.get(f"/api/v1/deployments/{dep_id}/logs", params={"lines": 2000})).json()
    return [(datetime.fromisoformat(ln["ts"]), ln["source"], ln["line"]) for ln in body["lines"]]


async def test_a_killed_server_finds_the_simulated_cloud_where_it_left_it(tmp_path: Path) -> None:
    env = server_env(tmp_path, None, HANGAR_EMULATOR_SPEED="10", HANGAR_PREFLIGHT="0")
    server = ServerProcess("hangar", env, tmp_path, prewarm=1)
    await server.start()
    try:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=10, headers=auth_headers()
        ) as http:
            kept, halted = await deploy(http, "kept"), await deploy(http, "halted")
            await wait_until(http, kept, in_state("ready"))
            await wait_until(http, halted, in_state("ready"))
            assert (await http.post(f"/api/v1/deployments/{halted}/stop")).status_code == 202
            await wait_until(http, halted, in_state("stopped"))  # the cloud said EXITED
            midway = await deploy(http, "midway")
            await wait_until(http, midway, setting_up)
            before = {d: await detail(http, d) for d in (kept, halted)}
            balance_before = await balance(http)
            server.kill()  # midway's setup lines go on falling due while nobody listens
        await server.start()
        async with httpx.AsyncClient(
            base_url=server.url, timeout=10, headers=auth_headers()
        ) as http:
            await wait_until(http, midway, in_state("ready"))
            after = {d: await detail(http, d) for d in (kept, halted)}
            balance_after = await balance(http)
            served_lines = {d: await log_lines(http, d) for d in (kept, midway)}
    finally:
        server.stop()
    assert server.errors() == []

    for dep_id in (kept, halted):
        assert after[dep_id]["state"] == before[dep_id]["state"]
        assert after[dep_id]["history"] == before[dep_id]["history"], "no state came and went"
        assert after[dep_id]["pod"]["id"] == before[dep_id]["pod"]["id"]
    assert after[kept]["pod"]["status"] == "RUNNING"
    assert after[kept]["pod"]["uptime_s"] > before[kept]["pod"]["uptime_s"]
    assert after[halted]["pod"]["status"] == "EXITED"
    assert balance_after < balance_before < 500, "the balance was kept, and kept falling"

    cloud = RunPodEmulator(
        EmulatorConfig(state_path=simulated_cloud_state(Settings(data_dir=tmp_path)), speed=FROZEN)
    )
    try:
        pods = {pod.id: pod for pod in cloud.billed_pods()}
        assert len(pods) == 3, "one pod per deployment, none made again"
        kept_pod = pods[after[kept]["pod"]["id"]]
        # Never left RUNNING: it ran, and billed, straight through the downtime.
        assert [p.status for p in kept_pod.phases] == ["PROVISIONING", "STARTING", "RUNNING"]
        halted_pod = pods[after[halted]["pod"]["id"]]
        statuses = [p.status for p in halted_pod.phases]
        assert statuses[-1] == "EXITED"
        assert statuses.count("EXITED") == 1, "the stop made before the kill stayed made"
        for dep_id in (kept, midway):
            pod = next(p for p in pods.values() if p.env.get(DEPLOYMENT_ENV) == dep_id)
            cloud.materialize_logs(pod)
            truth = [(ln.ts, ln.source, ln.line) for ln in pod.logs.lines]
            assert served_lines[dep_id] == truth, f"{dep_id}: a line lost or repeated"
    finally:
        cloud.close()


def test_serve_refuses_a_simulated_cloud_it_cannot_read(tmp_path: Path) -> None:
    state = simulated_cloud_state(Settings(data_dir=tmp_path))
    state.parent.mkdir(parents=True)
    state.write_bytes(b"\x00garbage" * 1000)
    refused = subprocess.run(
        [sys.executable, "-m", "comfyhangar", "serve", "--port", "1"],
        env=server_env(tmp_path, None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2, refused.stderr
    assert f"simulated cloud state {state}: damaged (file is not a database)" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert state.read_bytes() == b"\x00garbage" * 1000
