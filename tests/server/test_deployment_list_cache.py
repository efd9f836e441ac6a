"""`GET /deployments` is rendered once and kept (`RenderedLists`): never stale, same bytes.

The list endpoint is called as a function on a runtime with no background loops and a frozen
emulator clock, so every render and every change is the test's own doing.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import update

from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.routers.deployments import list_deployments
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import DeploymentCreate, DeploymentList
from comfyhangar.server.views import RenderedLists, deployment_view
from tests.server.conftest import FLUX_DEPLOY, frozen_runtime, settle
from tests.support.auth import ADMIN_PRINCIPAL


async def listed(
    runtime: Runtime,
    state: DeploymentState | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> bytes:
    response = await list_deployments(
        runtime, ADMIN_PRINCIPAL, state=state, limit=limit, offset=offset
    )
    assert response.media_type == "application/json"
    return bytes(response.body)


async def deploy_running(runtime: Runtime, name: str = "flux-dev") -> str:
    dep = await runtime.deployments.create(DeploymentCreate(**{**FLUX_DEPLOY, "name": name}))
    await settle(runtime)
    advance(runtime, 10)
    await settle(runtime)
    return dep.id


def advance(runtime: Runtime, seconds: float) -> None:
    emulator = runtime.cloud.emulator
    assert emulator is not None
    emulator.clock.advance(seconds)


def renders(runtime: Runtime) -> int:
    lists = runtime.deployments.rendered_lists
    assert lists is not None
    return lists.renders


async def test_a_stop_shows_in_the_next_list_and_nothing_is_rendered_twice(
    tmp_path: Path,
) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        dep_id = await deploy_running(runtime)
        first = json.loads(await listed(runtime))["deployments"]
        assert [d["state"] for d in first] == ["installing"]
        made = renders(runtime)
        again = json.loads(await listed(runtime))["deployments"]
        assert again == first
        assert renders(runtime) == made, "an unchanged list is served as rendered"

        await runtime.deployments.stop(dep_id)
        after = json.loads(await listed(runtime))["deployments"]
        assert [(d["state"], d["desired_state"]) for d in after] == [("stopping", "stopped")]
        paged = json.loads(await listed(runtime, limit=1))["deployments"]
        assert [d["state"] for d in paged] == ["stopping"]
        filtered = json.loads(await listed(runtime, state=DeploymentState.STOPPING))
        assert [d["id"] for d in filtered["deployments"]] == [dep_id]
        assert json.loads(await listed(runtime, state=DeploymentState.INSTALLING)) == {
            "deployments": []
        }

        await settle(runtime)  # the reconciler stops the pod: state and pod status move on
        settled = json.loads(await listed(runtime))["deployments"][0]
        assert settled["state"] == "stopped"
        assert settled["pod"]["status"] == "EXITED"


async def test_a_new_deployment_and_a_direct_write_show_at_once(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        first = await deploy_running(runtime, "first")
        assert len(json.loads(await listed(runtime))["deployments"]) == 1
        second = await runtime.deployments.create(
            DeploymentCreate(**{**FLUX_DEPLOY, "name": "second"})
        )
        ids = [d["id"] for d in json.loads(await listed(runtime))["deployments"]]
        assert ids == [second.id, first]
        # A write without an event (as a lease or the meter makes) ends the entry too.
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                update(Deployment).where(Deployment.id == first).values(state_reason="why not")
            )
        reasons = {d["id"]: d["reason"] for d in json.loads(await listed(runtime))["deployments"]}
        assert reasons[first] == "why not"
        # A transaction that wrote nothing (a quiet reconcile cycle) keeps the entry.
        made = renders(runtime)
        async with runtime.sessions() as session, session.begin():
            await session.get(Deployment, first)
        await listed(runtime)
        assert renders(runtime) == made


async def test_cost_so_far_is_what_the_meter_billed_and_pod_metrics_follow_each_cycle(
    tmp_path: Path,
) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        await deploy_running(runtime)
        before = json.loads(await listed(runtime))["deployments"][0]
        assert before["pod"]["status"] == "RUNNING"
        made = renders(runtime)
        advance(runtime, 3600)  # no cycle, no commit: only time passes, nothing is billed yet
        assert json.loads(await listed(runtime))["deployments"][0] == before
        assert renders(runtime) == made

        await runtime.reconciler.cycle()  # a new listing (uptime moves), metered up to now
        cycled = json.loads(await listed(runtime))["deployments"][0]
        assert cycled["pod"]["uptime_s"] != before["pod"]["uptime_s"]
        so_far = Decimal(cycled["cost"]["so_far_usd"])
        rate = Decimal(cycled["cost"]["per_hour_usd"])
        assert so_far - Decimal(before["cost"]["so_far_usd"]) >= rate  # the hour, billed


async def test_the_rendered_list_is_byte_for_byte_the_pydantic_list(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        running = await deploy_running(runtime, "running")
        stopped = await deploy_running(runtime, "stopped")
        await runtime.deployments.stop(stopped)
        await settle(runtime)
        await runtime.deployments.create(DeploymentCreate(**{**FLUX_DEPLOY, "name": "pending"}))
        advance(runtime, 120)

        rows = await runtime.deployments.list_with_pods()
        assert {dep.id for dep, _ in rows} >= {running, stopped}
        costs = await runtime.costs.for_deployments(rows)
        live = runtime.reconciler.pods
        expected = DeploymentList(
            deployments=[
                deployment_view(
                    dep,
                    row,
                    live.get(dep.pod_id) if dep.pod_id else None,
                    simulated=runtime.cloud.simulated,
                    cost=costs.get(dep.id),
                )
                for dep, row in rows
            ]
        ).model_dump_json()
        assert await listed(runtime) == expected.encode()


# --- RenderedLists on its own ----------------------------------------------------------------


class Source:
    """A stand-in for the database and the reconciler: renders count, costs are set by hand."""

    def __init__(self) -> None:
        self.version = 0
        self.live: dict[str, Any] = {"pod1": object()}
        self.renders = 0
        self.started = asyncio.Event()
        self.release: asyncio.Event | None = None

    async def render(self) -> tuple[bytes, dict[str, Any]]:
        self.renders += 1
        version = self.version
        used = dict(self.live)
        self.started.set()
        if self.release is not None:
            await self.release.wait()
        return json.dumps({"deployments": [{"v": version}]}).encode(), used


async def body(lists: RenderedLists, source: Source, event_id: int = 0) -> Any:
    raw = await lists.body(
        (None, None, 0),
        event_id=event_id,
        live=source.live,
        render=source.render,
    )
    return json.loads(raw)["deployments"][0]["v"]


async def test_an_entry_ends_with_a_commit_an_event_or_a_new_pod_listing() -> None:
    lists, source = RenderedLists(), Source()
    assert await body(lists, source) == 0
    assert await body(lists, source) == 0
    assert source.renders == 1

    source.version = 1
    lists.invalidate()  # a commit
    assert await body(lists, source) == 1
    source.version = 2
    assert await body(lists, source, event_id=7) == 2  # an event from another process
    assert source.renders == 3

    source.live = {"pod1": source.live["pod1"]}  # a new listing, same pod: still valid
    assert await body(lists, source, event_id=7) == 2
    source.version = 3
    source.live = {"pod1": object()}  # the pod's metrics changed
    assert await body(lists, source, event_id=7) == 3
    assert source.renders == 4


async def test_concurrent_requests_share_a_render_but_not_one_begun_before_a_change() -> None:
    lists, source = RenderedLists(), Source()
    source.release = asyncio.Event()
    first = [asyncio.create_task(body(lists, source)) for _ in range(5)]
    await source.started.wait()
    # A change while that render runs: a request arriving now must not take its result.
    source.version = 1
    lists.invalidate()
    late = asyncio.create_task(body(lists, source))
    await asyncio.sleep(0)
    source.release.set()
    assert await asyncio.gather(*first) == [0] * 5
    assert await late == 1
    assert source.renders == 2
    assert await body(lists, source) == 1, "the render begun after the change is kept"
    assert source.renders == 2


async def test_an_entry_older_than_max_age_is_rendered_again() -> None:
    lists, source = RenderedLists(max_age_s=0.0), Source()
    await body(lists, source)
    await body(lists, source)
    assert source.renders == 2
