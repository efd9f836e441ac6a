"""The cost meter: after each reconcile cycle, bill every pod from where it was last metered.

For each deployment with a pod, the meter bills [metered_until, now) at the status seen at
`metered_until` (split at RunPod's `startedAt` when the pod began running in between), writes
the segments and moves `metered_until` to now, in one transaction, under a compare-and-set on
`metered_until`. A restart resumes from the stored moment (nothing lost, nothing twice), and
two server processes cannot both bill the same interval: the second finds `metered_until`
moved and skips. Times are the cloud's clock (the emulator's, when it plays the cloud).

While anything bills, a `cost_update` event per deployment goes out at least once a minute,
with the deployment's `cost` as its view shows it (billed so far, `current_rate`, projections).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.metering import PodShape, Segment, segments_between
from comfyhangar.runpod import RunPodError
from comfyhangar.runpod.models import Cloud, Pod
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import CostSegment, Deployment
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.costs import cost_in, current_rate, pod_shape, shape_from_spec

log = logging.getLogger(__name__)

GONE = "TERMINATED"
COST_UPDATE_EVERY_S = 60.0


class Meter:
    """Turns observed pod states into persisted cost segments."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self.clock = clock
        self._last_update: dict[str, float] = {}

    async def observe(self, listing: list[Pod]) -> None:
        """Bill every metered deployment up to now, given the pods RunPod just listed."""
        now = self.clock()
        pods = {p.id: p for p in listing}
        async with self._sessions() as session:
            deployments = list(
                await session.scalars(
                    select(Deployment).where(
                        Deployment.pod_id.is_not(None),
                        or_(
                            Deployment.metered_status.is_(None),
                            Deployment.metered_status != GONE,
                            Deployment.pod_id.in_(list(pods)),
                        ),
                    )
                )
            )
        for dep in deployments:
            pod = pods.get(dep.pod_id or "")
            try:
                await self._meter(dep, pod, now)
            except RunPodError as exc:  # no price to bill with: the interval waits for next time
                log.info("metering %s deferred: %s", dep.id, exc)

    async def _meter(self, dep: Deployment, pod: Pod | None, now: datetime) -> None:
        status_now = pod.status.value if pod is not None else GONE
        if pod is not None and dep.metered_status in (None, GONE):
            # A pod not metered yet (new, or a fresh pod after the last one went): from its birth.
            since, status_since = min(pod.created_at or now, now), "PROVISIONING"
        elif dep.metered_until is not None and dep.metered_status not in (None, GONE):
            since, status_since = dep.metered_until, dep.metered_status
        else:
            return
        shape = await self._shape(dep, pod)
        segments = segments_between(
            shape,
            since=since,
            status_since=status_since,
            now=now,
            status_now=status_now,
            started_at=pod.started_at if pod is not None else None,
        )
        async with self._sessions() as session, session.begin():
            guard = (
                Deployment.metered_until.is_(None)
                if dep.metered_until is None
                else Deployment.metered_until == dep.metered_until
            )
            moved = await session.execute(
                update(Deployment)
                .where(Deployment.id == dep.id, guard)
                .values(metered_until=now, metered_status=status_now)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return  # another process metered this interval
            session.add_all(self._rows(dep, shape, segments))
            if status_now != GONE and pod is not None and self._update_due(dep.id):
                await session.flush()
                cost = await cost_in(session, dep, current_rate(dep.spec, status_now, pod.cost))
                await append_event(
                    session,
                    EventType.COST_UPDATE,
                    deployment_id=dep.id,
                    pod_id=dep.pod_id,
                    data={**cost.event_data(), "status": status_now},
                )

    async def _shape(self, dep: Deployment, pod: Pod | None) -> PodShape:
        """The pod's rate shape: its own `cost` while it has one (as `current_rate` takes
        it), else the catalog price (a stopped or vanished pod's last interval may have been
        billed running)."""
        spec = dep.spec
        if pod is not None and pod.cost > 0:
            return pod_shape(spec, pod.cost)
        return shape_from_spec(
            spec, await self._catalog.price(spec["gpu"]["id"], Cloud(spec["cloud"]))
        )

    @staticmethod
    def _rows(dep: Deployment, shape: PodShape, segments: list[Segment]) -> list[CostSegment]:
        return [
            CostSegment(
                deployment_id=dep.id,
                pod_id=dep.pod_id or "",
                start_at=s.start,
                end_at=s.end,
                status=s.status,
                gpu_type_id=dep.spec["gpu"]["id"],
                gpu_rate=s.rate.gpu,
                disk_rate=s.rate.disk,
                gpu_amount=s.gpu_amount,
                disk_amount=s.disk_amount,
            )
            for s in segments
        ]

    def _update_due(self, deployment_id: str) -> bool:
        now = time.monotonic()
        if now - self._last_update.get(deployment_id, -1e9) < COST_UPDATE_EVERY_S:
            return False
        self._last_update[deployment_id] = now
        return True
