"""The cost meter against the emulator's own billing, on an accelerated (hand-moved) clock."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from comfyhangar.server.db.models import CostSegment, Event
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import DeploymentCreate
from tests.server.conftest import FLUX_DEPLOY, fast_settings, settle

HOUR = 3600.0


@contextlib.asynccontextmanager
async def metered_runtime(tmp_path: Path, **overrides: Any) -> AsyncIterator[Runtime]:
    """A frozen-clock runtime whose cloud time starts at 01:00 on the 2nd of next month, so
    day and month boundaries fall where the tests expect them, whenever they run."""
    settings = fast_settings(tmp_path, emulator_speed=1e-9, create_settle_s=0.0, **overrides)
    async with Runtime.start(settings, background=False) as runtime:
        clock = runtime.cloud.emulator.clock
        now = clock.now()
        next_month = (
            now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)
        ).replace(day=1)
        clock.advance((next_month + timedelta(days=1, hours=1) - now).total_seconds())
        yield runtime


async def metered_total(runtime: Runtime, dep_id: str) -> Decimal:
    async with runtime.sessions() as session:
        total = await session.scalar(
            select(func.sum(CostSegment.gpu_amount + CostSegment.disk_amount)).where(
                CostSegment.deployment_id == dep_id
            )
        )
    return Decimal(total or 0)


async def billed_total(runtime: Runtime, pod_id: str) -> Decimal:
    report = await runtime.cloud.client.pod_billing(
        pod_id=pod_id,
        bucket_size="day",
        start_time=runtime.cloud.now() - timedelta(days=40),
        end_time=runtime.cloud.now() + timedelta(days=1),
    )
    return sum((r.total_amount for r in report.records), Decimal(0))


async def step(runtime: Runtime, seconds: float) -> None:
    """Let `seconds` of cloud time pass, then reconcile (and meter) twice."""
    runtime.cloud.emulator.clock.advance(seconds)
    await settle(runtime)


async def test_meter_matches_runpod_billing_over_days_of_running_and_stopping(
    tmp_path: Path,
) -> None:
    async with metered_runtime(tmp_path) as runtime:
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        await step(runtime, 4)  # STARTING
        await step(runtime, 10)  # RUNNING (started mid-interval: split at startedAt)
        for _ in range(20):
            await step(runtime, HOUR)
        await runtime.deployments.stop(dep.id)
        await settle(runtime)
        for _ in range(2):
            await step(runtime, 12 * HOUR)  # stopped: volume only
        await runtime.deployments.start(dep.id)
        await settle(runtime)
        await step(runtime, 3)
        await step(runtime, 10)
        await step(runtime, 5 * HOUR)
        await runtime.deployments.terminate(dep.id)
        await settle(runtime, cycles=3)
        await step(runtime, 10 * HOUR)  # nothing bills after termination

        async with runtime.sessions() as session:
            pod_id = (await session.scalars(select(CostSegment.pod_id).limit(1))).one()
        metered = await metered_total(runtime, dep.id)
        billed = await billed_total(runtime, pod_id)
        assert billed > Decimal("10"), "about 25 GPU-hours of an RTX 4090 were billed"
        assert abs(metered - billed) / billed < Decimal("0.005"), (metered, billed)


async def test_restart_neither_loses_nor_double_counts(tmp_path: Path) -> None:
    async with metered_runtime(tmp_path) as runtime:
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        await step(runtime, 15)
        await step(runtime, HOUR)
        first = await metered_total(runtime, dep.id)
        # Metering the same moment again (as a second process, or after a restart that
        # replays a cycle) adds nothing.
        await runtime.reconciler.cycle()
        await runtime.reconciler.cycle()
        assert await metered_total(runtime, dep.id) == first
        await step(runtime, HOUR)
        second = await metered_total(runtime, dep.id)
        assert second > first
        async with runtime.sessions() as session:
            segments = list(
                await session.scalars(
                    select(CostSegment)
                    .where(CostSegment.deployment_id == dep.id)
                    .order_by(CostSegment.start_at)
                )
            )
        for before, after in itertools.pairwise(segments):
            assert before.end_at == after.start_at, "segments tile time: no gap, no overlap"


async def test_cost_updates_go_out_while_a_pod_bills(tmp_path: Path) -> None:
    async with metered_runtime(tmp_path) as runtime:
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        await step(runtime, 15)
        async with runtime.sessions() as session:
            updates: list[Any] = list(
                await session.scalars(
                    select(Event).where(Event.deployment_id == dep.id, Event.type == "cost_update")
                )
            )
        assert updates
        assert Decimal(updates[-1].data["per_hour_usd"]) > 0
