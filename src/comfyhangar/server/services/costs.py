"""Cost figures for the API: what each deployment has cost, what it costs now, projections,
and estimates before deploying. Reads the meter's segments; never calls RunPod to change state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.metering import PodShape
from comfyhangar.core.pricing import network_volume_rate_per_hour
from comfyhangar.server.db.models import (
    CostSegment,
    Deployment,
    NetworkVolumeRow,
    VolumeCostSegment,
)

CENT = Decimal("0.000001")
PROJECTION_HOURS = {"hour": 1, "day": 24, "week": 24 * 7, "month": 24 * 30}


@dataclass(frozen=True)
class DeploymentCost:
    so_far: Decimal  # metered, plus the open interval since the last meter reading
    per_hour: Decimal  # at the status last seen
    metered_until: datetime | None

    def projections(self) -> dict[str, Decimal]:
        return {k: (self.per_hour * h).quantize(CENT) for k, h in PROJECTION_HOURS.items()}


def shape_from_spec(spec: dict[str, Any], gpu_price: Decimal) -> PodShape:
    """The rate shape of a (validated) deployment spec at a given per-GPU price."""
    return PodShape(
        gpu_price_per_hour=gpu_price,
        gpu_count=int(spec["gpu"]["count"]),
        container_disk_gb=int(spec.get("container_disk_gb") or 0),
        volume_gb=0 if spec.get("network_volume_id") else int(spec.get("volume_gb") or 0),
    )


class CostService:
    """Per-deployment and total cost from the meter's segments."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def for_deployments(self, deployments: Iterable[Deployment]) -> dict[str, DeploymentCost]:
        deps = list(deployments)
        if not deps:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(
                    CostSegment.deployment_id,
                    func.sum(CostSegment.gpu_amount + CostSegment.disk_amount),
                )
                .where(CostSegment.deployment_id.in_([d.id for d in deps]))
                .group_by(CostSegment.deployment_id)
            )
            metered = {dep_id: Decimal(total or 0) for dep_id, total in rows}
            rates = await self._current_rates(session, deps)
        now = self._clock()
        costs = {}
        for dep in deps:
            rate = rates.get(dep.id, Decimal(0))
            open_hours = (
                Decimal(str(max((now - dep.metered_until).total_seconds(), 0) / 3600))
                if dep.metered_until is not None
                else Decimal(0)
            )
            so_far = metered.get(dep.id, Decimal(0)) + rate * open_hours
            costs[dep.id] = DeploymentCost(
                so_far.quantize(CENT), rate.quantize(CENT), dep.metered_until
            )
        return costs

    async def _current_rates(
        self, session: AsyncSession, deps: list[Deployment]
    ) -> dict[str, Decimal]:
        """The rate of each deployment's newest segment (the status last metered)."""
        newest = (
            select(CostSegment.deployment_id, func.max(CostSegment.id).label("id"))
            .where(CostSegment.deployment_id.in_([d.id for d in deps]))
            .group_by(CostSegment.deployment_id)
            .subquery()
        )
        rows = await session.execute(
            select(CostSegment.deployment_id, CostSegment.gpu_rate + CostSegment.disk_rate).join(
                newest, CostSegment.id == newest.c.id
            )
        )
        statuses = {d.id: d.metered_status for d in deps}
        return {
            dep_id: Decimal(rate)
            if statuses.get(dep_id) not in (None, "TERMINATED")
            else Decimal(0)
            for dep_id, rate in rows
        }

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
