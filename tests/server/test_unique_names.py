"""Names are unique among deployments that are not terminated, enforced by the database: creates
racing with one name make one deployment, the others get a 409 naming it; a terminated
deployment frees its name; an adopted pod never takes a live name."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from comfyhangar.core.errors import NameTaken
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.schemas.deployments import DeploymentCreate
from tests.server.conftest import (
    FLUX_DEPLOY,
    deployment,
    fast_settings,
    frozen_runtime,
    running_hangar,
    settle,
)
from tests.server.test_reconciler import tagged_create_body

RACERS = 40


async def test_concurrent_creates_with_one_name_make_one_deployment(
    tmp_path: Path, database_url: str
) -> None:
    settings = fast_settings(tmp_path, database_url=database_url)
    async with running_hangar(settings, timeout=60) as hangar:
        responses = await asyncio.gather(
            *(hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY) for _ in range(RACERS))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
        winner = next(r.json() for r in responses if r.status_code == 201)
        for refused in (r.json() for r in responses if r.status_code == 409):
            assert refused["code"] == "name_taken"
            assert refused["deployment_id"] == winner["id"]
            assert refused["errors"][0]["field"] == "name"
        listed = (await hangar.http.get("/api/v1/deployments")).json()["deployments"]
        assert [d["id"] for d in listed] == [winner["id"]]
        await hangar.cycles(2)
        assert len(hangar.emulator.all_pods) == 1

        # Terminated, the name is free again.
        await hangar.http.delete(f"/api/v1/deployments/{winner['id']}")
        await hangar.wait_for(winner["id"], "terminated")
        again = await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)
        assert again.status_code == 201, again.text


async def test_a_taken_name_is_refused_before_the_catalog_is_asked(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        first = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        # An unknown GPU would be a 422 from the catalog: the name is checked first.
        body = DeploymentCreate(**{**FLUX_DEPLOY, "gpu": {"id": "NVIDIA Nonexistent"}})
        with pytest.raises(NameTaken) as taken:
            await runtime.deployments.create(body)
        assert taken.value.details["deployment_id"] == first.id


async def test_an_adopted_pod_never_takes_a_live_name(tmp_path: Path) -> None:
    """A tagged pod the database lacks is adopted under its own name; when a live deployment
    has that name already, under a free one (else the database would refuse every cycle)."""
    async with frozen_runtime(tmp_path) as runtime:
        mine = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        emu = runtime.cloud.emulator
        tags = [uuid.uuid4().hex, uuid.uuid4().hex]
        for tag in tags:
            emu.create_pod(tagged_create_body(tag, name=FLUX_DEPLOY["name"]))
        emu.clock.advance(10)
        await settle(runtime)
        adopted = sorted([(await deployment(runtime, tag)).name for tag in tags])
        assert adopted == ["flux-dev-2", "flux-dev-3"]
        assert (await deployment(runtime, mine.id)).name == "flux-dev"
        async with runtime.sessions() as session:
            names = list(await session.scalars(select(Deployment.name)))
        assert len(names) == len(set(names)) == 3
        assert runtime.reconciler.last_error is None
