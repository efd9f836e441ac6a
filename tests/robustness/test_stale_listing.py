"""A cycle whose pod listing went stale while it ran must not act on (or record) that listing.

Two reconcilers on one database stand for two server processes. B lists pods, then pauses;
meanwhile A stops the pod and records it. When B resumes, its listing still shows the pod
RUNNING: B must neither send a second stop nor record the pod as RUNNING again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.runpod import RunPodClient
from comfyhangar.server.background.pod_actions import ActionSettings
from comfyhangar.server.background.reconciler import Reconciler, ReconcilerSettings
from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.db.models import Event
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.deployments import DeploymentService
from tests.robustness.support import API_KEY, counted_emulator, deployment_body
from tests.support.databases import sqlite_url

FROZEN = 1e-9


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = sqlite_url(tmp_path)
    await migrate(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def reconciler(sessions: async_sessionmaker[AsyncSession], client: RunPodClient) -> Reconciler:
    settings = ReconcilerSettings(actions=ActionSettings(create_settle_s=0.0))
    return Reconciler(sessions, client, Catalog(client), settings)


async def test_a_listing_older_than_a_change_is_not_acted_on(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with (
        counted_emulator(speed=FROZEN, seed=9) as emulator,
        RunPodClient(API_KEY, emulator.base_url) as client_a,
        RunPodClient(API_KEY, emulator.base_url) as client_b,
    ):
        a, b = reconciler(sessions, client_a), reconciler(sessions, client_b)
        service = DeploymentService(sessions, client_a, Catalog(client_a), wake=lambda: None)
        dep = await service.create(DeploymentCreate(**deployment_body("stale")))
        await a.cycle()
        await a.actions.wait_idle()
        emulator.emu.clock.advance(60)
        await a.cycle()
        assert (await service.get(dep.id)).state == "installing"
        await service.stop(dep.id)

        # B lists (the pod is RUNNING), then waits while A stops the pod and records it.
        listed, resume = asyncio.Event(), asyncio.Event()
        list_pods = client_b.list_pods

        async def list_then_pause(**kwargs: Any) -> Any:
            pods = await list_pods(**kwargs)
            listed.set()
            await resume.wait()
            return pods

        client_b.list_pods = list_then_pause  # type: ignore[method-assign]
        stale_cycle = asyncio.create_task(b.cycle())
        await listed.wait()
        await a.cycle()
        await a.actions.wait_idle()
        assert emulator.emu.pods[0]["status"] == "EXITED"
        resume.set()
        await stale_cycle
        await b.actions.wait_idle()
        client_b.list_pods = list_pods  # type: ignore[method-assign]
        await b.cycle()
        await b.actions.wait_idle()

        assert [a for _, a, _ in emulator.counter.actions()] == ["stop"], "one stop, once"
        assert (await service.get(dep.id)).state == "stopped"
        async with sessions() as session:
            events = list(await session.scalars(select(Event).order_by(Event.id)))
            pod = await session.get(PodRow, emulator.emu.pods[0]["id"])
        assert pod is not None
        assert pod.status == "EXITED"
        stopped_at = next(i for i, e in enumerate(events) if e.type == "pod_action")
        later = [e.data for e in events[stopped_at:] if e.type == "pod_status"]
        assert later == [], f"a stale status was recorded after the stop: {later}"
