"""Two processes that list the same orphan (a tagged pod the database lacks) adopt it once.

Two reconcilers on one database stand for two server processes. Both list the orphan before
either adopts it; then both go on. Exactly one adopts it (one deployment, one `pod_adopted`
event), and the other's cycle is not degraded: it ends normally and records what else it saw,
here the state change of a deployment of its own, in the same cycle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.runpod import RunPodClient
from comfyhangar.server.background.pod_actions import ActionSettings
from comfyhangar.server.background.reconciler import Reconciler, ReconcilerSettings
from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.db.models import Deployment, Event
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.deployments import DeploymentService
from tests.robustness.support import (
    API_KEY,
    GPU,
    ServerProcess,
    counted_emulator,
    deployment_body,
    server_env,
)
from tests.support.auth import auth_headers

FROZEN = 1e-9


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def reconciler(sessions: async_sessionmaker[AsyncSession], client: RunPodClient) -> Reconciler:
    settings = ReconcilerSettings(actions=ActionSettings(create_settle_s=0.0))
    return Reconciler(sessions, client, Catalog(client), settings)


def orphan_body(tag: str) -> dict[str, Any]:
    return {
        "name": "made-elsewhere",
        "image": "runpod/pytorch:latest",
        "gpu": {"id": GPU, "count": 1},
        "env": {"HANGAR_DEPLOYMENT_ID": tag},
        "disk": 20,
    }


def pause_after_listing(client: RunPodClient, listed: asyncio.Event, go: asyncio.Event) -> None:
    list_pods = client.list_pods

    async def list_then_wait(**kwargs: Any) -> Any:
        pods = await list_pods(**kwargs)
        listed.set()
        await go.wait()
        return pods

    client.list_pods = list_then_wait  # type: ignore[method-assign]


async def test_two_processes_adopt_one_orphan_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with (
        counted_emulator(speed=FROZEN, seed=3) as emulator,
        RunPodClient(API_KEY, emulator.base_url) as client_a,
        RunPodClient(API_KEY, emulator.base_url) as client_b,
    ):
        a, b = reconciler(sessions, client_a), reconciler(sessions, client_b)
        # B's own deployment, whose pod comes up in the cycle that races: B must record that.
        service = DeploymentService(sessions, client_b, Catalog(client_b), wake=lambda: None)
        mine = await service.create(DeploymentCreate(**deployment_body("mine")))
        await b.cycle()
        await b.actions.wait_idle()
        assert (await service.get(mine.id)).state == "provisioning"
        emulator.emu.clock.advance(60)

        tag = uuid.uuid4().hex
        orphan = emulator.emu.create_pod(orphan_body(tag))
        listed_a, listed_b, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        pause_after_listing(client_a, listed_a, go)
        pause_after_listing(client_b, listed_b, go)
        cycles = [asyncio.create_task(a.cycle()), asyncio.create_task(b.cycle())]
        await listed_a.wait()
        await listed_b.wait()  # both saw the orphan with no deployment for it
        go.set()
        report_a, report_b = await asyncio.gather(*cycles)  # neither raises
        await a.actions.wait_idle()
        await b.actions.wait_idle()

        assert sorted(report_a.adopted + report_b.adopted) == [tag], "adopted exactly once"
        assert (await service.get(mine.id)).state == "installing", "B's cycle was not lost"
        async with sessions() as session:
            adopted = await session.get(Deployment, tag)
            count = await session.scalar(
                select(func.count()).select_from(Deployment).where(Deployment.id == tag)
            )
            events = list(
                await session.scalars(
                    select(Event.type).where(
                        Event.deployment_id == tag, Event.type == "pod_adopted"
                    )
                )
            )
        assert count == 1
        assert adopted is not None
        assert adopted.pod_id == orphan.id
        assert adopted.lock_token is None, "the adoption's lease is released"
        assert events == ["pod_adopted"]
        assert len(emulator.counter.creates()) == 1, "only B's own deployment was created"
        assert len(emulator.emu.pods) == 2, "adopting never creates or removes pods"


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_servers_on_one_database_adopt_an_orphan_once(
    postgres_url: str, tmp_path: Path
) -> None:
    """The same with two real `comfyhangar serve` processes, cycling every 0.3 s: one
    deployment, one `pod_adopted`, and neither server logs a failed cycle."""
    async with counted_emulator(speed=20.0, seed=4) as emulator:
        tag = uuid.uuid4().hex
        orphan = emulator.emu.create_pod(orphan_body(tag))
        env = server_env(
            tmp_path, emulator.base_url, HANGAR_DATABASE_URL=postgres_url, HANGAR_LOG_LEVEL="info"
        )
        servers = [ServerProcess(name, env, tmp_path, prewarm=0) for name in ("a", "b")]
        try:
            await asyncio.gather(*(s.start(timeout=120) for s in servers))
            async with httpx.AsyncClient(
                base_url=servers[1].url, timeout=10, headers=auth_headers()
            ) as http:
                async with asyncio.timeout(60):
                    while (await http.get(f"/api/v1/deployments/{tag}")).status_code != 200:
                        await asyncio.sleep(0.1)
                listed = (await http.get("/api/v1/deployments")).json()["deployments"]
            await asyncio.sleep(1.0)  # several more cycles of both
        finally:
            for server in servers:
                server.stop()
        assert [d["id"] for d in listed] == [tag]
        assert listed[0]["pod"]["id"] == orphan.id
        for server in servers:
            assert server.errors() == [], server.tail()
        engine = make_engine(postgres_url)
        try:
            async with make_sessionmaker(engine)() as session:
                adopted = list(
                    await session.scalars(select(Event.id).where(Event.type == "pod_adopted"))
                )
        finally:
            await engine.dispose()
        assert len(adopted) == 1
        assert emulator.counter.creates() == [], "adopting never creates a pod"
