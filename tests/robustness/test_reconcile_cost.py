"""A reconcile cycle costs ceil(pods / page size) RunPod calls, whatever the number of pods.

500 pods on one account: 10 deployments made through the service (the reconciler creates their
pods), 390 tagged pods made straight on RunPod (the reconciler adopts them), and 100 pods that are
not ours (some stopped, some with a malformed tag). Every request the reconciler sends is
counted at the emulator; once nothing is left to do, each cycle is exactly the paginated list.
Pods that are not ours are recorded read-only and never acted on.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.runpod import RunPodClient
from comfyhangar.runpod.provisioning import DEPLOYMENT_ENV
from comfyhangar.server.background.pod_actions import ActionSettings
from comfyhangar.server.background.reconciler import CycleReport, Reconciler, ReconcilerSettings
from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.deployments import DeploymentService
from tests.robustness.support import API_KEY, DATA_CENTER, GPU, Emulator, counted_emulator
from tests.support.databases import sqlite_url

pytestmark = pytest.mark.slow

FROZEN = 1e-9  # emulator time moves only by clock.advance()
THROUGH_SERVICE = 10
ADOPTED = 390
FOREIGN = 100
TOTAL = THROUGH_SERVICE + ADOPTED + FOREIGN


def raw_pod(name: str, env: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": "runpod/pytorch:latest",
        "gpu": {"id": GPU, "count": 1},
        "dataCenterIds": [DATA_CENTER],
        "disk": 20,
        "env": env,
    }


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = sqlite_url(tmp_path)
    await migrate(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def settle(reconciler: Reconciler, emulator: Emulator) -> list[CycleReport]:
    """Cycle (moving RunPod's clock on) until a cycle finds nothing to record or do."""
    reports = []
    for _ in range(20):
        report = await reconciler.cycle()
        await reconciler.actions.wait_idle()
        reports.append(report)
        quiet = not (report.actions or report.adopted or report.state_changes)
        if quiet and len(reports) > 1:
            return reports
        emulator.emu.clock.advance(30)
    raise AssertionError(f"no steady state after 20 cycles: {reports[-1]}")


async def test_each_cycle_costs_one_paginated_list(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    page_size = 100
    async with counted_emulator(speed=FROZEN, page_size=page_size, seed=11) as emulator:
        emu = emulator.emu
        foreign = []
        for i in range(FOREIGN):
            env = {DEPLOYMENT_ENV: "not-a-deployment-id"} if i % 10 == 0 else {"OWNER": "bob"}
            foreign.append(emu.create_pod(raw_pod(f"someone-else-{i}", env)).id)
        for i in range(ADOPTED):
            emu.create_pod(raw_pod(f"hangar-{i:08x}-old", {DEPLOYMENT_ENV: f"{i:032x}"}))
        emu.clock.advance(60)
        for pod_id in foreign[1::10]:
            emu.act(pod_id, "stop")  # stopped pods that are not ours stay stopped

        async with RunPodClient(API_KEY, emulator.base_url) as client:
            catalog = Catalog(client)
            reconciler = Reconciler(
                sessions,
                client,
                catalog,
                ReconcilerSettings(actions=ActionSettings(create_settle_s=0.0)),
            )
            service = DeploymentService(sessions, client, catalog, wake=lambda: None)
            body = {"gpu": {"id": GPU, "count": 1}, "container_disk_gb": 40, "volume_gb": 60}
            for i in range(THROUGH_SERVICE):
                await service.create(DeploymentCreate(name=f"svc-{i}", **body))

            reports = await settle(reconciler, emulator)
            assert sum(len(r.adopted) for r in reports) == ADOPTED
            created = [a for r in reports for a in r.actions if a[1] == "create"]
            assert len(created) == THROUGH_SERVICE
            assert len(emu.pods) == TOTAL

            pages = math.ceil(TOTAL / page_size)
            for _ in range(3):
                mark = len(emulator.counter.calls)
                report = await reconciler.cycle()
                calls = emulator.counter.since(mark)
                assert report.listed == TOTAL
                assert (report.actions, report.adopted, report.state_changes) == ([], [], 0)
                assert [(c.method, c.path) for c in calls] == [("GET", "/v2/pods")] * pages
                assert all(c.status == 200 for c in calls)

        # Not ours: recorded read-only, never written to.
        touched = {pod_id for pod_id, _action, _status in emulator.counter.actions()}
        assert not touched & set(foreign)
        for pod in emu.pods:
            if pod["id"] in foreign:
                expected = "EXITED" if foreign.index(pod["id"]) % 10 == 1 else "RUNNING"
                assert pod["status"] == expected
        async with sessions() as session:
            mine = await session.scalar(select(func.count()).select_from(Deployment))
            rows = await session.scalars(select(PodRow).where(PodRow.deployment_id.is_(None)))
            assert mine == THROUGH_SERVICE + ADOPTED
            assert {r.id for r in rows} == set(foreign)
