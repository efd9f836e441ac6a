"""Metering rules: what a pod costs between two observations. Pure functions, no I/O.

The meter sees a pod at discrete moments (each reconcile cycle). Between two observations it
bills the rate of the status seen at the first one, except where RunPod's own timestamps say
exactly when the pod started running (`startedAt`): there the interval is split, so GPU time is
billed from the second the pod ran, not from when the meter happened to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from comfyhangar.core.pricing import PodRate, pod_rate_per_hour

SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class PodShape:
    """What sets a pod's rate besides its status."""

    gpu_price_per_hour: Decimal  # one GPU, in the pod's cloud
    gpu_count: int
    container_disk_gb: int
    volume_gb: int  # the pod's own volume disk; 0 with a network volume

    def rate(self, status: str) -> PodRate:
        return pod_rate_per_hour(
            status,
            gpu_price_per_hour=self.gpu_price_per_hour,
            gpu_count=self.gpu_count,
            container_disk_gb=self.container_disk_gb,
            volume_gb=self.volume_gb,
        )


@dataclass(frozen=True)
class Segment:
    """A stretch of time at one status and rate, and what it cost."""

    start: datetime
    end: datetime
    status: str
    rate: PodRate

    @property
    def seconds(self) -> Decimal:
        return Decimal(str((self.end - self.start).total_seconds()))

    @property
    def gpu_amount(self) -> Decimal:
        return self.rate.gpu * self.seconds / SECONDS_PER_HOUR

    @property
    def disk_amount(self) -> Decimal:
        return self.rate.disk * self.seconds / SECONDS_PER_HOUR

    @property
    def amount(self) -> Decimal:
        return self.gpu_amount + self.disk_amount


def segments_between(
    shape: PodShape,
    *,
    since: datetime,
    status_since: str,
    now: datetime,
    status_now: str,
    started_at: datetime | None,
) -> list[Segment]:
    """The billed segments of [since, now).

    `status_since` is the status seen at `since`, `status_now` the one seen at `now`. When the
    pod is RUNNING now and RunPod says it started running inside the interval, the interval is
    split at that second.
    """
    if now <= since:
        return []
    if (
        status_now == "RUNNING"
        and status_since != "RUNNING"
        and started_at is not None
        and since < started_at < now
    ):
        return [
            Segment(since, started_at, status_since, shape.rate(status_since)),
            Segment(started_at, now, "RUNNING", shape.rate("RUNNING")),
        ]
    return [Segment(since, now, status_since, shape.rate(status_since))]


def project(rate_per_hour: Decimal, hours: Decimal) -> Decimal:
    """What `rate_per_hour` costs over `hours`, if nothing changes."""
    return rate_per_hour * hours
