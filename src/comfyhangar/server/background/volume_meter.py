"""Meters the account's network volumes, which bill whether or not a pod uses them.

At most every `interval_s` (real seconds), after a reconcile cycle: list the volumes, bill each
from where it was last metered to now at its size's rate (core.pricing), under a
compare-and-set on `metered_until` (so restarts and other processes never bill twice). A volume
seen for the first time is metered from that moment; one that disappeared is billed up to now
and marked gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.metering import SECONDS_PER_HOUR
from comfyhangar.core.pricing import network_volume_rate_per_hour
from comfyhangar.runpod import RunPodClient, RunPodError
from comfyhangar.runpod.models import NetworkVolume, Pod
from comfyhangar.server.db.models import NetworkVolumeRow, VolumeCostSegment

log = logging.getLogger(__name__)


class VolumeMeter:
    """A reconciler observer (it ignores the pod listing and lists volumes itself)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: RunPodClient,
        clock: Callable[[], datetime],
        *,
        interval_s: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self._interval = interval_s
        self._last = -1e9

    async def observe(self, _pods: list[Pod]) -> None:
        if time.monotonic() - self._last < self._interval:
            return
        try:
            volumes = await self._client.list_network_volumes()
        except RunPodError as exc:
            log.info("network volume metering deferred: %s", exc)
            return
        self._last = time.monotonic()
        await self.meter(volumes, self._clock())

    async def meter(self, volumes: list[NetworkVolume], now: datetime) -> None:
        """Bill every known and new volume up to `now`."""
        seen = {v.id: v for v in volumes}
        async with self._sessions() as session:
            rows = {
                r.id: r
                for r in await session.scalars(
                    select(NetworkVolumeRow).where(NetworkVolumeRow.gone_at.is_(None))
                )
            }
        async with self._sessions() as session, session.begin():
            for volume in volumes:
                if volume.id not in rows:
                    session.add(
                        NetworkVolumeRow(
                            id=volume.id,
                            name=volume.name,
                            size_gb=volume.size,
                            data_center_id=volume.data_center,
                            first_seen_at=now,
                            metered_until=now,
                        )
                    )
        for row in rows.values():
            await self._bill(row, seen.get(row.id), now)

    async def _bill(
        self, row: NetworkVolumeRow, volume: NetworkVolume | None, now: datetime
    ) -> None:
        if now <= row.metered_until:
            return
        rate = network_volume_rate_per_hour(row.size_gb)
        seconds = Decimal(str((now - row.metered_until).total_seconds()))
        async with self._sessions() as session, session.begin():
            moved = await session.execute(
                update(NetworkVolumeRow)
                .where(
                    NetworkVolumeRow.id == row.id,
                    NetworkVolumeRow.metered_until == row.metered_until,
                )
                .values(
                    metered_until=now,
                    size_gb=volume.size if volume is not None else row.size_gb,
                    gone_at=None if volume is not None else now,
                )
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return
            session.add(
                VolumeCostSegment(
                    volume_id=row.id,
                    start_at=row.metered_until,
                    end_at=now,
                    size_gb=row.size_gb,
                    rate=rate,
                    amount=rate * seconds / SECONDS_PER_HOUR,
                )
            )
