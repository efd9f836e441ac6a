"""RunPod down or rate limiting: the API keeps serving, /health says so, work resumes after.

The server runs in this process (so the health check's cache can be shortened) against the
RunPod emulator on a real port, with time sped up.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.server import runtime as runtime_module
from comfyhangar.server.app import create_app
from comfyhangar.server.settings import Settings
from tests.robustness.support import (
    API_KEY,
    Emulator,
    counted_emulator,
    deployment_body,
)
from tests.support.servers import running_server

pytestmark = pytest.mark.slow

BODY = deployment_body("outage")


@dataclass
class Setup:
    emulator: Emulator
    http: httpx.AsyncClient

    async def state(self, dep_id: str) -> str:
        response = await self.http.get(f"/api/v1/deployments/{dep_id}")
        assert response.status_code == 200
        return str(response.json()["state"])

    async def wait_state(self, dep_id: str, state: str, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while await self.state(dep_id) != state:
                await asyncio.sleep(0.1)

    async def health(self) -> dict[str, Any]:
        started = time.monotonic()
        response = await self.http.get("/api/v1/health")
        assert response.status_code == 200
        # Promptly, even while RunPod fails and the client would retry for seconds.
        assert time.monotonic() - started < runtime_module.RUNPOD_CHECK_TIMEOUT_S + 2
        body: dict[str, Any] = response.json()
        return body

    def list_calls(self, since: float) -> list[tuple[float, int]]:
        """(time, status) of each `GET /v2/pods` since `since` (monotonic)."""
        return [
            (c.at, c.status)
            for c in self.emulator.counter.calls
            if c.method == "GET" and c.path == "/v2/pods" and c.at >= since
        ]


@pytest.fixture
async def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    monkeypatch.setattr(runtime_module, "RUNPOD_CHECK_TTL_S", 0.5)
    async with counted_emulator(
        speed=20.0, provisioning_s=3.0, starting_s=5.0, simulated_setup_s=15.0, seed=3
    ) as emulator:
        settings = Settings(
            data_dir=tmp_path,
            runpod_api_key=API_KEY,  # type: ignore[arg-type]
            runpod_api_url=emulator.base_url,
            reconcile_interval_s=0.2,
            lease_s=3.0,
            create_settle_s=1.0,
        )
        app = create_app(settings)
        async with (
            running_server(app) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            yield Setup(emulator, http)


async def test_outage_keeps_reads_reports_health_and_resumes(setup: Setup) -> None:
    created = await setup.http.post("/api/v1/deployments", json=BODY)
    assert created.status_code == 201
    first = created.json()["id"]
    await setup.wait_state(first, "ready")
    assert (await setup.health())["status"] == "ok"

    setup.emulator.emu.faults.error_rate = 1.0  # every RunPod request fails with a 5xx
    # Intent is recorded without RunPod: a stop and a deploy (its catalog check is cached).
    assert (await setup.http.post(f"/api/v1/deployments/{first}/stop")).status_code == 202
    second = await setup.http.post("/api/v1/deployments", json={**BODY, "name": "during"})
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]
    async with asyncio.timeout(30):
        while True:
            health = await setup.health()
            if not health["runpod"]["ok"] and not health["reconciler"]["ok"]:
                break
            await asyncio.sleep(0.2)
    assert health["status"] == "degraded"
    assert health["runpod"]["detail"]
    assert "RunPod" in health["reconciler"]["detail"]
    assert health["database"]["ok"]
    # Reads keep working, and nothing moved on RunPod.
    listed = (await setup.http.get("/api/v1/deployments")).json()["deployments"]
    assert {d["id"] for d in listed} == {first, second_id}
    assert await setup.state(first) == "stopping"
    assert [p["status"] for p in setup.emulator.emu.pods] == ["RUNNING"]

    # RunPod hanging: /health still answers at once, and says so.
    setup.emulator.emu.faults.latency_s = 6.0
    await asyncio.sleep(runtime_module.RUNPOD_CHECK_TTL_S)
    health = await setup.health()
    assert not health["runpod"]["ok"]
    assert "did not answer" in health["runpod"]["detail"]

    setup.emulator.emu.faults.latency_s = 0.0
    setup.emulator.emu.faults.error_rate = 0.0
    await setup.wait_state(first, "stopped")
    await setup.wait_state(second_id, "ready")
    async with asyncio.timeout(10):
        while (await setup.health())["status"] != "ok":
            await asyncio.sleep(0.2)
    assert len(setup.emulator.emu.all_pods) == 2, "the outage cost no duplicate pod"


async def test_rate_limit_burst_backs_off_then_recovers(setup: Setup) -> None:
    created = await setup.http.post("/api/v1/deployments", json=BODY)
    dep_id = created.json()["id"]
    await setup.wait_state(dep_id, "ready")

    calm = time.monotonic()
    await asyncio.sleep(1.5)
    normal = len(setup.list_calls(calm)) / 1.5

    burst = time.monotonic()
    setup.emulator.emu.faults.burst_429(6, retry_after=1)
    assert (await setup.http.post(f"/api/v1/deployments/{dep_id}/stop")).status_code == 202
    async with asyncio.timeout(30):
        while setup.emulator.emu.faults.pending_429 > 0:
            await asyncio.sleep(0.05)
    limited = [at for at, status in setup.list_calls(burst) if status == 429]
    assert limited, "the reconciler met the 429s"
    gaps = [b - a for a, b in itertools.pairwise(limited)]
    # Retry-After is honoured: lists that met a 429 are at least ~1 s apart, far below the
    # normal pace of one list per 0.2 s cycle.
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert normal > 0, "the reconciler lists RunPod between bursts"
    during = len(setup.list_calls(burst)) / (time.monotonic() - burst)
    assert during < normal / 2, (during, normal)

    await setup.wait_state(dep_id, "stopped")
    recovered = time.monotonic()
    async with asyncio.timeout(10):  # the cycle lists again, without a 429 in the way
        while len([s for _, s in setup.list_calls(recovered) if s == 200]) < 3:
            await asyncio.sleep(0.1)
    assert (await setup.health())["reconciler"]["ok"]
