"""Metering rules: segments between observations, split exactly at startedAt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from comfyhangar.core.metering import PodShape, segments_between
from comfyhangar.core.pricing import HOURS_PER_MONTH

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SHAPE = PodShape(Decimal("0.69"), 2, container_disk_gb=50, volume_gb=100)


def test_running_hour_bills_gpus_and_running_storage() -> None:
    [seg] = segments_between(
        SHAPE,
        since=T0,
        status_since="RUNNING",
        now=T0 + timedelta(hours=1),
        status_now="RUNNING",
        started_at=T0,
    )
    assert seg.gpu_amount == Decimal("1.38")
    assert seg.disk_amount == Decimal("0.10") * 150 / HOURS_PER_MONTH


def test_stopped_hour_bills_only_the_volume_at_the_stopped_rate() -> None:
    [seg] = segments_between(
        SHAPE,
        since=T0,
        status_since="EXITED",
        now=T0 + timedelta(hours=1),
        status_now="EXITED",
        started_at=None,
    )
    assert seg.gpu_amount == 0
    assert seg.disk_amount == Decimal("0.20") * 100 / HOURS_PER_MONTH


def test_gpu_time_starts_the_second_the_pod_ran_not_when_the_meter_looked() -> None:
    started = T0 + timedelta(minutes=10)
    segs = segments_between(
        SHAPE,
        since=T0,
        status_since="STARTING",
        now=T0 + timedelta(hours=1),
        status_now="RUNNING",
        started_at=started,
    )
    assert [s.status for s in segs] == ["STARTING", "RUNNING"]
    assert sum(s.gpu_amount for s in segs) == Decimal("1.38") * 50 / 60
    assert segs[0].end == segs[1].start == started


def test_an_empty_or_backwards_interval_bills_nothing() -> None:
    assert (
        segments_between(
            SHAPE, since=T0, status_since="RUNNING", now=T0, status_now="RUNNING", started_at=None
        )
        == []
    )
