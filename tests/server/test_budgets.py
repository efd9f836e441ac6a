"""Budgets that act: warnings once per threshold, a cap that stops pods within one cycle,
and deploys refused when a budget cannot cover an hour."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from comfyhangar.core.errors import BudgetExceeded
from comfyhangar.runpod.models import Cloud
from comfyhangar.server.db.models import Deployment, Event
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.budgets import BudgetCreate
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.services.costs import shape_from_spec
from tests.server.conftest import FLUX_DEPLOY, Hangar, settle
from tests.server.test_meter import metered_runtime, step

HOUR = 3600.0


async def events_of(runtime: Runtime, kind: str) -> list[Event]:
    async with runtime.sessions() as session:
        return list(
            await session.scalars(select(Event).where(Event.type == kind).order_by(Event.id))
        )


async def hourly(runtime: Runtime) -> Decimal:
    """What the test deployment costs per hour while running (GPU and storage)."""
    price = await runtime.catalog.price(FLUX_DEPLOY["gpu"]["id"], Cloud.SECURE)
    return (
        shape_from_spec(DeploymentCreate(**FLUX_DEPLOY).model_dump(), price).rate("RUNNING").total
    )


async def test_warnings_fire_once_per_threshold_and_the_cap_stops_within_one_cycle(
    tmp_path: Path,
) -> None:
    async with metered_runtime(tmp_path) as runtime:
        limit = (await hourly(runtime)) * 4  # four hours of running
        await runtime.budgets.create(
            BudgetCreate(name="month", limit_usd=limit, warn_at=[0.5, 0.9], on_exceed="stop")
        )
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        await step(runtime, 14)  # RUNNING now
        await step(runtime, 2.2 * HOUR)  # 55%
        await step(runtime, 60)
        assert [e.data["threshold"] for e in await events_of(runtime, "budget_warning")] == [0.5]
        await step(runtime, 1.5 * HOUR)  # 92%
        await step(runtime, 60)
        assert [e.data["threshold"] for e in await events_of(runtime, "budget_warning")] == [
            0.5,
            0.9,
        ]
        assert (await events_of(runtime, "budget_exceeded")) == []

        runtime.cloud.emulator.clock.advance(0.5 * HOUR)  # past the limit
        await runtime.reconciler.cycle()  # meters, sees the cap, asks for a stop
        await runtime.reconciler.actions.wait_idle()
        await runtime.reconciler.cycle()  # the next cycle stops the pod
        await runtime.reconciler.actions.wait_idle()
        assert [p["status"] for p in runtime.cloud.emulator.pods] == ["EXITED"]
        exceeded = await events_of(runtime, "budget_exceeded")
        assert len(exceeded) == 1
        assert exceeded[0].data["action"] == "stop"
        async with runtime.sessions() as session:
            row = await session.get(Deployment, dep.id)
        assert row is not None
        assert row.desired_state == "stopped"
        await step(runtime, HOUR)
        assert len(await events_of(runtime, "budget_warning")) == 2, "no repeats in one period"
        async with runtime.sessions() as session:
            row = await session.get(Deployment, dep.id)
        assert row is not None
        # Why it stopped is on the deployment (its card), in every state of its history on
        # the way, and in the events the dashboard receives: the budget, its limit, the spend.
        spent = Decimal(exceeded[0].data["spent_usd"])
        why = f"stopped by budget 'month': ${spent:.2f} spent of its ${limit:.2f} monthly limit"
        assert row.state == "stopped"
        assert row.state_reason is not None
        assert row.state_reason.startswith(why), row.state_reason
        states = [e for e in await events_of(runtime, "deployment_state") if e.data["reason"]]
        assert [(e.data["state"], e.data["reason"]) for e in states] == [
            ("stopping", row.state_reason),
            ("stopped", row.state_reason),
        ]
        asked = await events_of(runtime, "deployment_requested")
        assert [(e.data["source"], e.data["reason"]) for e in asked] == [
            ("budget", row.state_reason)
        ]


async def test_a_terminate_budget_terminates(tmp_path: Path) -> None:
    async with metered_runtime(tmp_path) as runtime:
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await runtime.budgets.create(
            BudgetCreate(
                name="this one",
                deployment_id=dep.id,
                limit_usd=(await hourly(runtime)) / 2,
                period="daily",
                on_exceed="terminate",
            )
        )
        await settle(runtime)
        await step(runtime, 14)
        await step(runtime, HOUR)
        await settle(runtime, cycles=3)
        assert runtime.cloud.emulator.pods == []


async def test_a_deploy_the_budget_cannot_cover_for_an_hour_is_refused(tmp_path: Path) -> None:
    async with metered_runtime(tmp_path) as runtime:
        await runtime.budgets.create(
            BudgetCreate(name="tight", limit_usd=Decimal("0.10"), on_exceed="stop")
        )
        with pytest.raises(BudgetExceeded, match="tight"):
            await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        async with runtime.sessions() as session:
            assert list(await session.scalars(select(Deployment))) == []
        await settle(runtime)
        assert runtime.cloud.emulator.all_pods == []


async def test_budget_api_round_trip_and_refused_deploy(hangar: Hangar) -> None:
    created = await hangar.http.post(
        "/api/v1/budgets", json={"name": "daily cap", "period": "daily", "limit_usd": "0.05"}
    )
    assert created.status_code == 201, created.text
    budget = created.json()
    assert budget["state"] == "ok"
    assert Decimal(budget["remaining_usd"]) == Decimal("0.05")
    refused = await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)
    assert refused.status_code == 409
    assert refused.json()["code"] == "budget_exceeded"
    patched = await hangar.http.patch(f"/api/v1/budgets/{budget['id']}", json={"limit_usd": "100"})
    assert Decimal(patched.json()["limit_usd"]) == 100
    assert (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).status_code == 201
    bad = await hangar.http.post("/api/v1/budgets", json={"name": "x", "limit_usd": "-1"})
    assert bad.status_code == 422
    assert (await hangar.http.delete(f"/api/v1/budgets/{budget['id']}")).status_code == 204
    assert (await hangar.http.get(f"/api/v1/budgets/{budget['id']}")).status_code == 404
