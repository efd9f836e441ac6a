"""Cost figures for the API: what each deployment has cost, what it costs now, projections,
and estimates before deploying. Reads the meter's segments; never calls RunPod to change state.

Two rules hold every figure together:
- **one rate**: what a deployment costs per hour now is `current_rate`, from its pod's status
  as the reconciler last recorded it (the same transaction that records the state shown):
  the views, the summary's burn rate, the state and cost events and the CLI all carry it;
- **cost so far is what the meter billed** (`metered_totals`): segments are only ever added
  and none is negative, so it never goes down. An estimate of the open interval would (it
  would bill at a rate the meter may not use), so none is added; `metered_until` says how
  fresh it is (one reconcile cycle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.core.metering import PodShape
from comfyhangar.core.pricing import PodRate, network_volume_rate_per_hour
from comfyhangar.server.db.models import (
    CostSegment,
    Deployment,
    NetworkVolumeRow,
    VolumeCostSegment,
)
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.deployments import CostProjections, DeploymentCostView

CENT = Decimal("0.000001")
PROJECTION_HOURS = {"hour": 1, "day": 24, "week": 24 * 7, "month": 24 * 30}
NO_RATE = PodRate(gpu=Decimal(0), disk=Decimal(0))


@dataclass(frozen=True)
class DeploymentCost:
    so_far: Decimal  # what the meter billed up to `metered_until`
    per_hour: Decimal  # `current_rate`: at the pod's status as last recorded
    metered_until: datetime | None

    def projections(self) -> dict[str, Decimal]:
        return {k: (self.per_hour * h).quantize(CENT) for k, h in PROJECTION_HOURS.items()}

    def view(self) -> DeploymentCostView:
        """The `cost` of a deployment's view, and of its state and cost events."""
        return DeploymentCostView(
            so_far_usd=self.so_far,
            per_hour_usd=self.per_hour,
            metered_until=self.metered_until,
            projections=CostProjections(**self.projections()),
        )

    def event_data(self) -> dict[str, Any]:
        """`view()` as an event's JSON."""
        return self.view().model_dump(mode="json")


NO_COST = DeploymentCost(Decimal(0), Decimal(0), None)


def shape_from_spec(spec: Mapping[str, Any], gpu_price: Decimal) -> PodShape:
    """The rate shape of a (validated) deployment spec at a given per-GPU price."""
    return PodShape(
        gpu_price_per_hour=gpu_price,
        gpu_count=int(spec["gpu"]["count"]),
        container_disk_gb=int(spec.get("container_disk_gb") or 0),
        volume_gb=0 if spec.get("network_volume_id") else int(spec.get("volume_gb") or 0),
    )


def pod_shape(spec: Mapping[str, Any], pod_cost: Decimal) -> PodShape:
    """The rate shape of a deployment's pod whose GPUs cost `pod_cost` per hour together
    (RunPod's `cost` for the pod), with the spec's disks."""
    return PodShape(
        gpu_price_per_hour=pod_cost,
        gpu_count=1,
        container_disk_gb=int(spec.get("container_disk_gb") or 0),
        volume_gb=0 if spec.get("network_volume_id") else int(spec.get("volume_gb") or 0),
    )


def current_rate(spec: Mapping[str, Any], pod_status: str | None, pod_cost: Decimal) -> PodRate:
    """What a deployment costs per hour now: the one rate every cost figure shows.

    `pod_status` is its pod's v2 status as last recorded (None: no pod, or it is gone);
    `pod_cost` RunPod's `cost` for the pod. GPU time bills at that cost while RUNNING and
    storage by `core.pricing` (running rates while the pod holds a machine, the volume at
    the stopped rate while EXITED or ERROR, nothing once TERMINATED).
    """
    if pod_status is None:
        return NO_RATE
    return pod_shape(spec, pod_cost).rate(pod_status)


def row_rate(spec: Mapping[str, Any], row: PodRow | None) -> PodRate:
    """`current_rate` from the deployment's pod row (none, or gone: nothing bills)."""
    if row is None or row.gone_at is not None:
        return NO_RATE
    return current_rate(spec, row.status, row.cost_per_hour)


async def metered_totals(
    session: AsyncSession, deployment_ids: Iterable[str]
) -> dict[str, tuple[Decimal, datetime | None]]:
    """What the meter billed each deployment and up to when: one statement, so the amount
    and its moment are one consistent reading."""
    ids = list(deployment_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(
            Deployment.id,
            Deployment.metered_until,
            func.coalesce(func.sum(CostSegment.gpu_amount + CostSegment.disk_amount), 0),
        )
        .outerjoin(CostSegment, CostSegment.deployment_id == Deployment.id)
        .where(Deployment.id.in_(ids))
        .group_by(Deployment.id, Deployment.metered_until)
    )
    return {dep_id: (Decimal(total or 0), until) for dep_id, until, total in rows}


async def cost_in(session: AsyncSession, dep: Deployment, rate: PodRate) -> DeploymentCost:
    """The deployment's cost as read inside `session` (for an event of its transaction)."""
    billed, until = (await metered_totals(session, [dep.id])).get(dep.id, (Decimal(0), None))
    return DeploymentCost(billed.quantize(CENT), rate.total.quantize(CENT), until)


class CostService:
    """Per-deployment and total cost from the meter's segments."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def for_deployments(
        self, deployments: Iterable[tuple[Deployment, PodRow | None]]
    ) -> dict[str, DeploymentCost]:
        """Each deployment's cost: billed so far, and its rate from its pod row."""
        pairs = list(deployments)
        async with self._sessions() as session:
            billed = await metered_totals(session, (dep.id for dep, _ in pairs))
        costs = {}
        for dep, row in pairs:
            total, until = billed.get(dep.id, (Decimal(0), None))
            rate = row_rate(dep.spec, row).total
            costs[dep.id] = DeploymentCost(total.quantize(CENT), rate.quantize(CENT), until)
        return costs

    async def current_rates(self) -> dict[str, Decimal]:
        """The rate of every deployment not terminated (what the summary's burn adds up)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Deployment, PodRow)
                .outerjoin(PodRow, PodRow.id == Deployment.pod_id)
                .options(defer(PodRow.snapshot))
                .where(Deployment.state != DeploymentState.TERMINATED.value)
            )
            return {dep.id: row_rate(dep.spec, row).total.quantize(CENT) for dep, row in rows}

    async def spent_between(
        self, start: datetime, end: datetime, *, deployment_id: str | None = None
    ) -> Decimal:
        """Metered spend inside [start, end) (of one deployment, or all), prorating segments
        that straddle the edges."""
        query = select(CostSegment).where(CostSegment.end_at > start, CostSegment.start_at < end)
        if deployment_id is not None:
            query = query.where(CostSegment.deployment_id == deployment_id)
        total = Decimal(0)
        async with self._sessions() as session:
            for seg in await session.scalars(query):
                total += _inside(
                    seg.start_at, seg.end_at, seg.gpu_amount + seg.disk_amount, start, end
                )
            if deployment_id is None:  # network volumes belong to the account, not a deployment
                volumes = await session.scalars(
                    select(VolumeCostSegment).where(
                        VolumeCostSegment.end_at > start, VolumeCostSegment.start_at < end
                    )
                )
                for vseg in volumes:
                    total += _inside(vseg.start_at, vseg.end_at, vseg.amount, start, end)
        return total.quantize(CENT)

    async def volume_rate(self) -> Decimal:
        """What the account's live network volumes cost per hour together."""
        async with self._sessions() as session:
            sizes = list(
                await session.scalars(
                    select(NetworkVolumeRow.size_gb).where(NetworkVolumeRow.gone_at.is_(None))
                )
            )
        return sum((network_volume_rate_per_hour(size) for size in sizes), Decimal(0))


def _inside(
    seg_start: datetime, seg_end: datetime, amount: Decimal, start: datetime, end: datetime
) -> Decimal:
    """The part of `amount` (spread evenly over the segment) that falls inside [start, end)."""
    whole = (seg_end - seg_start).total_seconds()
    inside = (min(seg_end, end) - max(seg_start, start)).total_seconds()
    if whole <= 0 or inside <= 0:
        return Decimal(0)
    return amount * Decimal(str(inside / whole))


def start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def start_of_month(moment: datetime) -> datetime:
    return start_of_day(moment).replace(day=1)


def estimate(
    shape: PodShape, *, network_volume_gb: int = 0, hours: Decimal = Decimal(1)
) -> dict[str, Decimal]:
    """Running and stopped rates of a planned deployment, and what `hours` of running cost."""
    volume = network_volume_rate_per_hour(network_volume_gb) if network_volume_gb else Decimal(0)
    running = shape.rate("RUNNING")
    stopped = shape.rate("EXITED")
    per_hour = running.total + volume
    return {
        "gpu_per_hour": running.gpu.quantize(CENT),
        "storage_per_hour": (running.disk + volume).quantize(CENT),
        "per_hour": per_hour.quantize(CENT),
        "per_day": (per_hour * 24).quantize(CENT),
        "per_month": (per_hour * 24 * 30).quantize(CENT),
        "stopped_per_hour": (stopped.total + volume).quantize(CENT),
        "for_hours": (per_hour * hours).quantize(CENT),
    }
