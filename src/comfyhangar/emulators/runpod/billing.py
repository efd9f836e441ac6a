"""Billing: exact per-second integration of each pod's and volume's rate over time buckets.

Amounts are `Decimal` throughout (no drift); they are rounded to 6 decimals only when a record
is serialised. Rates come from `comfyhangar.core.pricing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from comfyhangar.core.buckets import floor_bucket, next_bucket
from comfyhangar.core.pricing import network_volume_rate_per_hour
from comfyhangar.emulators.runpod.logs import parse_rfc3339, rfc3339
from comfyhangar.emulators.runpod.model import NetworkVolume, Pod
from comfyhangar.emulators.runpod.problems import bad_request, invalid

BUCKETS = ("hour", "day", "week", "month", "year")
_MICROS_PER_HOUR = Decimal(3_600_000_000)
ZERO = Decimal(0)


def hours(start: datetime, end: datetime) -> Decimal:
    """Exact hours between two moments (microsecond resolution), 0 if end <= start."""
    if end <= start:
        return ZERO
    return Decimal((end - start) // timedelta(microseconds=1)) / _MICROS_PER_HOUR


@dataclass(frozen=True)
class BillingWindow:
    """A resolved billing query: [start, end) cut into buckets of `size`."""

    start: datetime
    end: datetime
    size: str

    def buckets(self) -> list[tuple[datetime, datetime]]:
        result = []
        cursor = self.start
        while cursor < self.end:
            following = next_bucket(cursor, self.size)
            result.append((cursor, following))
            cursor = following
        return result

    def query(self) -> dict[str, Any]:
        return {
            "startTime": rfc3339(self.start),
            "endTime": rfc3339(self.end),
            "bucketSize": self.size,
        }


def parse_window(params: Mapping[str, str], now: datetime) -> BillingWindow:
    """Resolve startTime/endTime/bucketSize/lastN as the spec describes (422/400 on misuse)."""
    size = params.get("bucketSize", "day")
    errors = [] if size in BUCKETS else [f"$.bucketSize: must be one of {', '.join(BUCKETS)}"]
    times: dict[str, datetime] = {}
    for name in ("startTime", "endTime"):
        if name in params:
            parsed = parse_rfc3339(params[name])
            if parsed is None:
                errors.append(f"$.{name}: must be an RFC 3339 date-time")
            else:
                times[name] = parsed
    last_n = params.get("lastN")
    if last_n is not None and (not last_n.isdigit() or int(last_n) < 1):
        errors.append("$.lastN: must be an integer >= 1")
    if errors:
        raise invalid(errors)
    if last_n is not None:
        if times:
            raise bad_request("lastN is mutually exclusive with startTime/endTime")
        current = floor_bucket(now, size)
        start = current
        for _ in range(int(last_n) - 1):
            start = floor_bucket(start - timedelta(microseconds=1), size)
        return BillingWindow(start, next_bucket(current, size), size)
    start = floor_bucket(times.get("startTime", now - timedelta(days=30)), size)
    end_raw = times.get("endTime", now)
    end = floor_bucket(end_raw, size)
    if end < end_raw:
        end = next_bucket(end, size)
    if end <= start:
        raise bad_request("endTime must be after startTime")
    return BillingWindow(start, end, size)


def pod_amounts(pod: Pod, start: datetime, end: datetime) -> tuple[Decimal, Decimal]:
    """(gpu, disk) USD billed to `pod` in [start, end)."""
    gpu = disk = ZERO
    for index, phase in enumerate(pod.phases):
        following = pod.phases[index + 1].at if index + 1 < len(pod.phases) else end
        span = hours(max(start, phase.at), min(end, following))
        if span:
            rate = pod.rate(phase)
            gpu += rate.gpu * span
            disk += rate.disk * span
    return gpu, disk


def volume_amount(volume: NetworkVolume, start: datetime, end: datetime) -> Decimal:
    """USD billed to a network volume in [start, end)."""
    total = ZERO
    stop = min(end, volume.deleted_at) if volume.deleted_at else end
    for index, (since, size) in enumerate(volume.sizes):
        following = volume.sizes[index + 1][0] if index + 1 < len(volume.sizes) else stop
        span = hours(max(start, since), min(stop, following))
        total += network_volume_rate_per_hour(size) * span
    return total


def _money(value: Decimal) -> float:
    return float(round(value, 6))


def pod_billing(
    pods: Iterable[Pod], window: BillingWindow, now: datetime, pod_id: str | None
) -> dict[str, Any]:
    """The body of `GET /v2/billing/pods`: one record per pod per bucket with spend."""
    records: list[dict[str, Any]] = []
    totals = [ZERO, ZERO]
    seen: set[str] = set()
    for bucket_start, bucket_end in window.buckets():
        for pod in pods:
            if pod_id is not None and pod.id != pod_id:
                continue
            gpu, disk = pod_amounts(pod, bucket_start, min(bucket_end, now))
            if gpu + disk == 0:
                continue
            seen.add(pod.id)
            totals[0] += gpu
            totals[1] += disk
            records.append(
                {
                    "startTime": rfc3339(bucket_start),
                    "endTime": rfc3339(bucket_end),
                    "podId": pod.id,
                    "totalAmount": _money(gpu + disk),
                    "gpuAmount": _money(gpu),
                    "cpuAmount": 0.0,
                    "diskAmount": _money(disk),
                }
            )
    gpu_total, disk_total = totals
    return {
        "records": records,
        "metadata": {
            "query": {**window.query(), "podId": pod_id},
            "recordCount": len(records),
            "uniquePodCount": len(seen),
            "totals": {
                "totalAmount": _money(gpu_total + disk_total),
                "gpuAmount": _money(gpu_total),
                "cpuAmount": 0.0,
                "diskAmount": _money(disk_total),
            },
        },
    }


def volume_billing(
    volumes: Iterable[NetworkVolume], window: BillingWindow, now: datetime, volume_id: str | None
) -> dict[str, Any]:
    """The body of `GET /v2/billing/network-volumes`: one record per volume per bucket."""
    records: list[dict[str, Any]] = []
    standard_total = fast_total = ZERO
    seen: set[str] = set()
    for bucket_start, bucket_end in window.buckets():
        for volume in volumes:
            if volume_id is not None and volume.id != volume_id:
                continue
            amount = volume_amount(volume, bucket_start, min(bucket_end, now))
            if amount == 0:
                continue
            seen.add(volume.id)
            fast = volume.type == "HIGH_PERFORMANCE"
            standard, high = (ZERO, amount) if fast else (amount, ZERO)
            standard_total += standard
            fast_total += high
            records.append(
                {
                    "startTime": rfc3339(bucket_start),
                    "endTime": rfc3339(bucket_end),
                    "networkVolumeId": volume.id,
                    "totalAmount": _money(amount),
                    "standardAmount": _money(standard),
                    "highPerformanceAmount": _money(high),
                }
            )
    return {
        "records": records,
        "metadata": {
            "query": {**window.query(), "networkVolumeId": volume_id},
            "recordCount": len(records),
            "uniqueNetworkVolumeCount": len(seen),
            "totals": {
                "totalAmount": _money(standard_total + fast_total),
                "standardAmount": _money(standard_total),
                "highPerformanceAmount": _money(fast_total),
            },
        },
    }
