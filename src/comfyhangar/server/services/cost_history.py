"""Spend over time from the meter's segments: per day, week or month, per deployment, per GPU
type, and per deployment-day for CSV export.

Buckets are UTC on the cloud's clock (days start at 00:00, weeks on Monday, months on the 1st).
A segment that crosses a bucket edge is split exactly there: each side gets the share of its GPU
and storage amounts that its time bears (microsecond resolution, `Decimal` throughout). Only
metered segments count (like `CostService.spent_between`): the few seconds since the meter last
ran appear at its next cycle.

Segments are written once per reconcile cycle, so a month holds many of them; the bulk is summed
by the database per bucket, and only the segments that cross an edge are read one by one.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.buckets import floor_bucket, next_bucket
from comfyhangar.core.errors import InvalidInput
from comfyhangar.server.db.models import (
    CostSegment,
    Deployment,
    VolumeCostSegment,
)

BucketSize = Literal["hour", "day", "week", "month"]
ZERO = Decimal(0)
MICRO = Decimal("0.000001")
MAX_BUCKETS = 1000
DEFAULT_BUCKETS: dict[str, int] = {"hour": 48, "day": 30, "week": 12, "month": 12}
# Cells a spreadsheet would read as a formula (OWASP "CSV injection"): prefixed with a quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "date",
    "kind",
    "deployment_id",
    "deployment_name",
    "pod_id",
    "network_volume_id",
    "gpu_type_id",
    "gpu_hours",
    "gpu_usd",
    "storage_usd",
    "total_usd",
)


def bucket_edges(start: datetime, end: datetime, size: str) -> list[datetime]:
    """Edges of the buckets covering [start, end): the first at or before `start`, the last at
    or after `end`. Refuses more than `MAX_BUCKETS` buckets."""
    edges = [floor_bucket(start, size)]
    while edges[-1] < end:
        if len(edges) > MAX_BUCKETS:
            raise InvalidInput(
                f"the window holds more than {MAX_BUCKETS} {size} buckets; "
                "narrow it or use a larger bucket"
            )
        edges.append(next_bucket(edges[-1], size))
    if len(edges) == 1:
        edges.append(next_bucket(edges[0], size))
    return edges


def _dec(value: object) -> Decimal:
    """A database number as `Decimal` (SQLite may hand back floats: go through `str`)."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


@dataclass
class Amounts:
    gpu: Decimal = ZERO
    storage: Decimal = ZERO  # the pods' container and volume disks
    gpu_hours: Decimal = ZERO
    network: Decimal = ZERO  # network volumes (the account's, not a deployment's)

    @property
    def total(self) -> Decimal:
        return self.gpu + self.storage + self.network

    def add(self, other: Amounts) -> None:
        self.gpu += other.gpu
        self.storage += other.storage
        self.gpu_hours += other.gpu_hours
        self.network += other.network


# (deployment_id, pod_id, gpu_type_id) → amounts
Key = tuple[str, str, str | None]
Split = dict[Key, Amounts]


async def split_segments(
    session: AsyncSession, edges: Sequence[datetime], *, pod_ids: Iterable[str] | None = None
) -> list[Split]:
    """Metered amounts per (deployment, pod, GPU type) inside each [edges[i], edges[i+1]).

    Segments wholly inside a bucket are summed by the database; those that cross an edge are
    read and split at it, exactly.
    """
    pods = list(pod_ids) if pod_ids is not None else None
    result: list[Split] = [defaultdict(Amounts) for _ in range(len(edges) - 1)]
    if pods is not None and not pods:
        return result
    seg = CostSegment
    only_pods = [seg.pod_id.in_(pods)] if pods is not None else []
    gpu_hours = func.sum(case((seg.gpu_rate > 0, seg.gpu_amount / seg.gpu_rate), else_=0))
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        rows = await session.execute(
            select(
                seg.deployment_id,
                seg.pod_id,
                seg.gpu_type_id,
                func.sum(seg.gpu_amount),
                func.sum(seg.disk_amount),
                gpu_hours,
            )
            .where(seg.start_at >= low, seg.end_at <= high, *only_pods)
            .group_by(seg.deployment_id, seg.pod_id, seg.gpu_type_id)
        )
        for dep_id, pod_id, gpu_type, gpu, disk, hours in rows:
            result[index][(dep_id, pod_id, gpu_type)].add(
                Amounts(_dec(gpu), _dec(disk), _dec(hours))
            )
    crossing = or_(*(and_(seg.start_at < edge, seg.end_at > edge) for edge in edges))
    straddlers = await session.execute(
        select(
            seg.deployment_id,
            seg.pod_id,
            seg.gpu_type_id,
            seg.start_at,
            seg.end_at,
            seg.gpu_rate,
            seg.gpu_amount,
            seg.disk_amount,
        ).where(seg.end_at > edges[0], seg.start_at < edges[-1], crossing, *only_pods)
    )
    for dep_id, pod_id, gpu_type, start, end, rate, gpu, disk in straddlers:
        for index, share in _shares(edges, start, end):
            part_gpu = _dec(gpu) * share
            result[index][(dep_id, pod_id, gpu_type)].add(
                Amounts(part_gpu, _dec(disk) * share, part_gpu / _dec(rate) if rate else ZERO)
            )
    return result


async def split_volume_segments(
    session: AsyncSession, edges: Sequence[datetime]
) -> list[dict[str, Decimal]]:
    """Metered network volume amounts per volume inside each [edges[i], edges[i+1])."""
    result: list[dict[str, Decimal]] = [defaultdict(Decimal) for _ in range(len(edges) - 1)]
    seg = VolumeCostSegment
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        rows = await session.execute(
            select(seg.volume_id, func.sum(seg.amount))
            .where(seg.start_at >= low, seg.end_at <= high)
            .group_by(seg.volume_id)
        )
        for volume_id, amount in rows:
            result[index][volume_id] += _dec(amount)
    crossing = or_(*(and_(seg.start_at < edge, seg.end_at > edge) for edge in edges))
    straddlers = await session.execute(
        select(seg.volume_id, seg.start_at, seg.end_at, seg.amount).where(
            seg.end_at > edges[0], seg.start_at < edges[-1], crossing
        )
    )
    for volume_id, start, end, amount in straddlers:
        for index, share in _shares(edges, start, end):
            result[index][volume_id] += _dec(amount) * share
    return result


def _shares(edges: Sequence[datetime], start: datetime, end: datetime) -> list[tuple[int, Decimal]]:
    """(bucket index, share of [start, end) inside it) for each bucket the span touches."""
    whole = _micros(end - start)
    if whole <= 0:
        return []
    shares = []
    for index in range(max(bisect.bisect_right(edges, start) - 1, 0), len(edges) - 1):
        low, high = edges[index], edges[index + 1]
        if low >= end:
            break
        inside = _micros(min(end, high) - max(start, low))
        if inside > 0:
            shares.append((index, Decimal(inside) / Decimal(whole)))
    return shares


@dataclass(frozen=True)
class Line:
    """One series in a breakdown: a deployment or a GPU type, and what it cost."""

    key: str | None
    name: str | None
    amount: Decimal


@dataclass
class Bucket:
    start: datetime
    end: datetime
    complete: bool
    amounts: Amounts
    by_deployment: list[Line]
    by_gpu: list[Line]


@dataclass
class History:
    bucket: str
    start: datetime
    end: datetime
    buckets: list[Bucket]
    totals: Amounts
    deployments: list[Line]  # every deployment of the window, most expensive first
    gpu_types: list[Line]


@dataclass
class Breakdown:
    start: datetime
    end: datetime
    totals: Amounts
    items: list[tuple[str | None, str | None, Amounts]] = field(default_factory=list)


def _q(value: Decimal) -> Decimal:
    return value.quantize(MICRO)


class CostHistory:
    """History, breakdowns and CSV rows from the meter's segments."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    def window(
        self, start: datetime | None, end: datetime | None, *, size: str, default_buckets: int
    ) -> tuple[datetime, datetime]:
        """[start, end) with defaults: end = now, start = `default_buckets` buckets back."""
        now = self._clock()
        end = as_utc(end) if end is not None else now
        if start is None:
            start = floor_bucket(end if end <= now else now, size)
            for _ in range(default_buckets - 1):
                start = floor_bucket(start - timedelta(microseconds=1), size)
        start = as_utc(start)
        if end <= start:
            raise InvalidInput("end must be after start")
        return start, end

    async def _read(
        self, cut: list[datetime]
    ) -> tuple[list[Split], list[dict[str, Decimal]], dict[str, str]]:
        async with self._sessions() as session:
            parts = await split_segments(session, cut)
            volumes = await split_volume_segments(session, cut)
            names = await _names(session, {k[0] for part in parts for k in part})
        return parts, volumes, names

    async def history(
        self, size: BucketSize, start: datetime | None = None, end: datetime | None = None
    ) -> History:
        start, end = self.window(start, end, size=size, default_buckets=DEFAULT_BUCKETS[size])
        now = self._clock()
        edges = bucket_edges(start, end, size)
        # Count only [start, end): the window's own edges cut the first and last bucket.
        cut = sorted({*edges, start, end})
        parts, volume_parts, names = await self._read(cut)
        per_bucket: list[Split] = [defaultdict(Amounts) for _ in range(len(edges) - 1)]
        volumes = [ZERO] * (len(edges) - 1)
        for index, part in enumerate(parts):
            low = cut[index]
            if low < start or low >= end:
                continue
            slot = bisect.bisect_right(edges, low) - 1
            for key, amounts in part.items():
                per_bucket[slot][key].add(amounts)
            volumes[slot] += sum(volume_parts[index].values(), ZERO)
        by_dep_total: dict[str, Decimal] = defaultdict(Decimal)
        by_gpu_total: dict[str | None, Decimal] = defaultdict(Decimal)
        totals = Amounts(network=sum(volumes, ZERO))
        for split in per_bucket:
            for (dep_id, _pod, gpu_type), amounts in split.items():
                by_dep_total[dep_id] += amounts.total
                by_gpu_total[gpu_type] += amounts.total
                totals.add(amounts)
        dep_order = sorted(by_dep_total, key=lambda d: (-by_dep_total[d], d))
        gpu_order = sorted(by_gpu_total, key=lambda g: (-by_gpu_total[g], g or ""))
        buckets = []
        for index, split in enumerate(per_bucket):
            in_bucket = Amounts(network=volumes[index])
            dep_sums: dict[str, Decimal] = defaultdict(Decimal)
            gpu_sums: dict[str | None, Decimal] = defaultdict(Decimal)
            for (dep_id, _pod, gpu_type), piece in split.items():
                in_bucket.add(piece)
                dep_sums[dep_id] += piece.total
                gpu_sums[gpu_type] += piece.total
            buckets.append(
                Bucket(
                    start=edges[index],
                    end=edges[index + 1],
                    complete=edges[index + 1] <= min(end, now),
                    amounts=in_bucket,
                    by_deployment=[Line(d, names.get(d), _q(dep_sums[d])) for d in dep_order],
                    by_gpu=[Line(g, g, _q(gpu_sums[g])) for g in gpu_order],
                )
            )
        return History(
            bucket=size,
            start=start,
            end=end,
            buckets=buckets,
            totals=totals,
            deployments=[Line(d, names.get(d), _q(by_dep_total[d])) for d in dep_order],
            gpu_types=[Line(g, g, _q(by_gpu_total[g])) for g in gpu_order],
        )

    async def breakdown(
        self, by: Literal["deployment", "gpu"], start: datetime | None, end: datetime | None
    ) -> Breakdown:
        """Spend per deployment or per GPU type over [start, end) (default: this month).
        The totals include network volumes, which belong to no deployment or GPU type."""
        if start is None:
            start = floor_bucket(self._clock(), "month")
        start, end = self.window(start, end, size="month", default_buckets=1)
        (split,), (volumes,), names = await self._read([start, end])
        grouped: dict[str | None, Amounts] = defaultdict(Amounts)
        totals = Amounts(network=sum(volumes.values(), ZERO))
        for (dep_id, _pod, gpu_type), amounts in split.items():
            grouped[dep_id if by == "deployment" else gpu_type].add(amounts)
            totals.add(amounts)
        order = sorted(grouped, key=lambda k: (-grouped[k].total, k or ""))
        items = [(k, names.get(k or "") if by == "deployment" else k, grouped[k]) for k in order]
        return Breakdown(start, end, totals, items)

    async def csv_rows(
        self, start: datetime | None, end: datetime | None
    ) -> tuple[datetime, datetime, list[list[str]]]:
        """One row per UTC day and deployment, pod and GPU type (kind `pod`), or network
        volume (kind `network_volume`), with spend (default window: this month)."""
        if start is None:
            start = floor_bucket(self._clock(), "month")
        start, end = self.window(start, end, size="day", default_buckets=1)
        cut = sorted({*bucket_edges(start, end, "day"), start, end})
        parts, volume_parts, names = await self._read(cut)
        days: dict[tuple[str, str, str, str, str], Amounts] = defaultdict(Amounts)
        for index, part in enumerate(parts):
            low = cut[index]
            if low < start or low >= end:
                continue
            day = floor_bucket(low, "day").date().isoformat()
            for (dep_id, pod_id, gpu_type), amounts in part.items():
                days[(day, "pod", dep_id, pod_id, gpu_type or "")].add(amounts)
            for volume_id, amount in volume_parts[index].items():
                days[(day, "network_volume", "", volume_id, "")].add(Amounts(network=amount))
        rows = []
        for (day, kind, dep_id, resource, gpu_type), amounts in sorted(days.items()):
            if amounts.total == 0 and amounts.gpu_hours == 0:
                continue
            pod = kind == "pod"
            rows.append(
                [
                    day,
                    kind,
                    dep_id,
                    names.get(dep_id, "") if pod else "",
                    resource if pod else "",
                    "" if pod else resource,
                    gpu_type,
                    str(_q(amounts.gpu_hours)),
                    str(_q(amounts.gpu)),
                    str(_q(amounts.storage + amounts.network)),
                    str(_q(amounts.total)),
                ]
            )
        return start, end, rows


def as_utc(moment: datetime) -> datetime:
    """Naive times given to the API are taken as UTC; years outside 1970-2999 are refused
    (they can only be mistakes, and bucket arithmetic near datetime's limits overflows)."""
    if not 1970 <= moment.year <= 2999:
        raise InvalidInput("times must fall between the years 1970 and 2999")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Deployment.id, Deployment.name).where(Deployment.id.in_(list(ids)))
    )
    return {str(dep_id): str(name) for dep_id, name in rows}


def csv_safe(cell: str) -> str:
    """A cell a spreadsheet will show as text: formula-like cells get a leading quote."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def to_csv(rows: Iterable[Sequence[str]], header: Sequence[str] = CSV_COLUMNS) -> str:
    """RFC 4180 CSV (CRLF line ends, fields quoted when they hold `,` `"` or line breaks),
    every cell guarded against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return out.getvalue()
