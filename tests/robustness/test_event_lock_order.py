"""On PostgreSQL, a user's request and a reconcile cycle never deadlock on the event log.

Appending an event takes the event log's advisory lock (held to commit). A user's request locks
its deployment's row, then appends. The cycle used to append an event for one deployment and
then update the next one: with a request holding that next row, each waited for the other and
PostgreSQL aborted one of them (the request answered 500). Here a transaction standing for the
request holds the second deployment's row while the cycle runs, then appends its event.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from comfyhangar.runpod import RunPodClient
from comfyhangar.server.background.reconciler import Reconciler
from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.deployments import DeploymentService
from tests.robustness.support import API_KEY, counted_emulator, deployment_body

pytestmark = pytest.mark.postgres


async def test_request_and_cycle_do_not_deadlock(postgres_url: str) -> None:
    await migrate(postgres_url)
    engine = make_engine(postgres_url)
    sessions = make_sessionmaker(engine)
    try:
        async with (
            counted_emulator(seed=2) as emulator,
            RunPodClient(API_KEY, emulator.base_url) as client,
        ):
            service = DeploymentService(sessions, client, Catalog(client), wake=lambda: None)
            ids = sorted(
                [(await service.create(DeploymentCreate(**deployment_body(n)))).id for n in "ab"]
            )
            for dep_id in ids:  # stopping, no pod: the cycle records both as stopped
                await service.stop(dep_id)
            reconciler = Reconciler(sessions, client, Catalog(client))

            async with sessions() as request, request.begin():
                await request.execute(
                    update(Deployment)
                    .where(Deployment.id == ids[1])
                    .values(version=Deployment.version + 1)
                )
                cycle = asyncio.create_task(reconciler.cycle())
                await asyncio.sleep(1.0)  # the cycle is now waiting for the second row
                await append_event(
                    request,
                    EventType.DEPLOYMENT_REQUESTED,
                    deployment_id=ids[1],
                    data={"action": "stop", "source": "user", "reason": None},
                )
            report = await asyncio.wait_for(cycle, 10)
            assert report.state_changes >= 1
            assert (await service.get(ids[0])).state == "stopped"
    finally:
        await engine.dispose()
