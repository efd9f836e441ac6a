"""A server SIGKILLed and restarted while a pod bills neither loses nor double-counts cost.

The emulator runs in real time in this process (its billing is the truth); the server is a
real subprocess killed at random moments. While it is down the pod keeps billing; after each
restart the meter must pick up exactly where its last commit ended.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from comfyhangar.runpod import RunPodClient
from comfyhangar.server.db import make_engine, make_sessionmaker
from comfyhangar.server.db.models import CostSegment, Deployment
from tests.robustness.support import (
    API_KEY,
    GPU,
    ServerProcess,
    counted_emulator,
    deployment_body,
    server_env,
)
from tests.support.auth import auth_headers
from tests.support.databases import sqlite_url


@pytest.mark.slow
async def test_killed_server_neither_loses_nor_double_counts_cost(tmp_path: Path) -> None:
    async with counted_emulator(
        speed=1.0, provisioning_s=0.5, starting_s=0.5, simulated_setup_s=1.0, seed=5
    ) as emulator:
        server = ServerProcess("meter", server_env(tmp_path, emulator.base_url), tmp_path)
        await server.start()
        try:
            async with httpx.AsyncClient(
                base_url=server.url, timeout=10, headers=auth_headers()
            ) as http:
                created = await http.post(
                    "/api/v1/deployments",
                    json=deployment_body("metered", gpu={"id": GPU, "count": 2}, volume_gb=100),
                )
                assert created.status_code == 201, created.text
                dep_id = created.json()["id"]
            async with asyncio.timeout(20):
                while not [p for p in emulator.emu.pods if p["status"] == "RUNNING"]:
                    await asyncio.sleep(0.1)
            rng = random.Random(11)
            for _ in range(4):
                await asyncio.sleep(rng.uniform(1.0, 3.0))
                server.kill()  # mid-cycle, mid-commit, wherever it is
                await asyncio.sleep(rng.uniform(0.3, 1.5))  # the pod bills on while we are down
                await server.start()
            await asyncio.sleep(2.0)
        finally:
            server.stop()

        engine = make_engine(sqlite_url(tmp_path))
        try:
            async with make_sessionmaker(engine)() as session:
                dep = await session.get(Deployment, dep_id)
                segments = list(
                    await session.scalars(
                        select(CostSegment)
                        .where(CostSegment.deployment_id == dep_id)
                        .order_by(CostSegment.start_at)
                    )
                )
        finally:
            await engine.dispose()
        assert dep is not None
        assert dep.metered_until is not None
        pod = emulator.emu.pods[0]
        assert datetime.fromisoformat(pod["createdAt"]) == segments[0].start_at
        for before, after in itertools.pairwise(segments):
            assert before.end_at == after.start_at, "a gap (lost cost) or an overlap (double count)"
        assert segments[-1].end_at == dep.metered_until

        # What the meter has, plus the running rate from metered_until to a moment, against
        # what RunPod (the emulator) has billed. Billing is read at some instant during its
        # request, so the meter is taken at both ends of the request and must bracket it.
        running_rate = segments[-1].gpu_rate + segments[-1].disk_rate
        metered = sum((s.gpu_amount + s.disk_amount for s in segments), Decimal(0))

        def metered_at(moment: datetime) -> Decimal:
            open_seconds = Decimal(str((moment - dep.metered_until).total_seconds()))
            return metered + running_rate * open_seconds / 3600

        before = emulator.emu.clock.now()
        report = await _billed(emulator.base_url, pod["id"])
        after = emulator.emu.clock.now()
        tolerance = Decimal("0.005")
        low, high = metered_at(before), metered_at(after)
        assert low * (1 - tolerance) <= report <= high * (1 + tolerance), (low, report, high)


async def _billed(base_url: str, pod_id: str) -> Decimal:
    async with RunPodClient(API_KEY, base_url) as client:
        report = await client.pod_billing(pod_id=pod_id, bucket_size="hour", last_n=2)
    return sum((r.total_amount for r in report.records), Decimal(0))
