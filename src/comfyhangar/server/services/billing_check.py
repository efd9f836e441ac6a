"""Checks the meter against what RunPod says it billed, and reads the account balance.

Reconciliation: every `interval_s` (real seconds; plus on demand) read `/v2/billing/pods` and
`/v2/billing/network-volumes` in hour buckets over the recent window and compare each pod's
(and network volume's) billed amount per bucket with what the meter recorded for it in that
bucket (segments split exactly at the hour). Only pods the meter knows (ours) are compared;
RunPod's figures for other pods of the account are summed apart as `unmanaged`. Every network
volume of the account is metered, so all of them are compared.

A (pod or volume, hour) row is *settled* once the hour has ended more than `settle_s` ago (RunPod's
billing runs every 5 minutes and lags) and the meter has billed the pod past the hour's end.
A settled row is a *mismatch* when the two figures differ by more than 1% of RunPod's figure
and by at least one cent (so that a pod billing a few seconds in an hour, where a reconcile
cycle's sampling is a large share, does not raise noise). Each mismatch raises one
`billing_mismatch` event per pod (or volume) and hour, remembered in the event log itself, so
restarts do not repeat it (two processes checking at the same moment might both raise one).

Balance: GraphQL `myself { clientBalance }`, cached for `BALANCE_TTL_S`; failures are cached
too and reported as a reason, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.buckets import floor_bucket
from comfyhangar.core.errors import InvalidInput
from comfyhangar.runpod import RunPodClient, RunPodError
from comfyhangar.runpod.graphql_balance import (
    BalanceClient,
    BalanceUnavailable,
    graphql_url_for,
)
from comfyhangar.server.cloud import Cloud
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import CostSegment, Deployment, Event, NetworkVolumeRow
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.cost_history import (
    as_utc,
    split_segments,
    split_volume_segments,
)
from comfyhangar.server.settings import Settings

log = logging.getLogger(__name__)

MISMATCH_EVENT = EventType.BILLING_MISMATCH
TOLERANCE = Decimal("0.01")  # 1% of RunPod's figure
MIN_DIFFERENCE_USD = Decimal("0.01")  # differences under a cent are noise
DEFAULT_INTERVAL_S = 600.0
DEFAULT_LOOKBACK = timedelta(hours=6)
DEFAULT_SETTLE = timedelta(minutes=10)
MAX_WINDOW = timedelta(days=31)
BALANCE_TTL_S = 60.0
MICRO = Decimal("0.000001")
GONE = "TERMINATED"
RowStatus = Literal["match", "mismatch", "pending"]
Kind = Literal["pod", "network_volume"]


@dataclass(frozen=True)
class BucketRow:
    """One resource (a pod, or a network volume) in one hour: the meter's and RunPod's figure."""

    kind: Kind
    resource_id: str
    deployment_id: str | None
    deployment_name: str | None
    start: datetime
    end: datetime
    metered: Decimal
    billed: Decimal
    status: RowStatus

    @property
    def difference(self) -> Decimal:
        return self.metered - self.billed

    @property
    def difference_pct(self) -> Decimal | None:
        return percent(self.difference, self.billed)


@dataclass
class Reconciliation:
    checked_at: datetime  # cloud clock
    start: datetime
    end: datetime
    rows: list[BucketRow] = field(default_factory=list)
    unmanaged_billed: Decimal = Decimal(0)
    error: str | None = None

    def settled(self) -> list[BucketRow]:
        return [r for r in self.rows if r.status != "pending"]


def percent(difference: Decimal, of: Decimal) -> Decimal | None:
    """`difference` as a percentage of `of` (2 decimals), None when `of` is 0."""
    if of == 0:
        return None
    pct = (difference / of * 100).quantize(Decimal("0.01"))
    return abs(pct) if pct == 0 else pct


def is_mismatch(metered: Decimal, billed: Decimal) -> bool:
    """More than 1% apart (of RunPod's figure) and at least a cent apart."""
    difference = abs(metered - billed)
    return difference >= MIN_DIFFERENCE_USD and difference > TOLERANCE * billed


class BalanceReader:
    """The account balance through GraphQL, cached; `(usd, None)` or `(None, why not)`."""

    def __init__(self, client: BalanceClient | None, *, reason: str | None = None) -> None:
        self._client = client
        self._reason = reason or "no RunPod API key to read the balance with"
        self._cached: tuple[float, Decimal | None, str | None] | None = None
        self._lock = asyncio.Lock()

    async def read(self) -> tuple[Decimal | None, str | None]:
        if self._client is None:
            return None, self._reason
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < BALANCE_TTL_S:
                return self._cached[1], self._cached[2]
            try:
                value: Decimal | None = await self._client.balance()
                detail: str | None = None
            except BalanceUnavailable as exc:
                value, detail = None, str(exc)
            self._cached = (time.monotonic(), value, detail)
            return value, detail

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class BillingCheck:
    """Periodic and on-demand reconciliation of the meter with RunPod's billing."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: RunPodClient,
        clock: Callable[[], datetime],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        lookback: timedelta = DEFAULT_LOOKBACK,
        settle: timedelta = DEFAULT_SETTLE,
        balance: BalanceReader | None = None,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self.clock = clock
        self.interval_s = interval_s
        self.lookback = lookback
        self.settle = settle
        self.balance = balance or BalanceReader(None)
        self.latest: Reconciliation | None = None
        self._raised: set[tuple[str, str]] = set()
        self._seen_event = 0
        self._task: asyncio.Task[None] | None = None

    # ---- background -----------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="billing-check")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.balance.aclose()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.run()
            except Exception:  # a failed check must not end the loop
                log.exception("billing reconciliation failed")

    # ---- one check ------------------------------------------------------------------

    async def run(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Reconciliation:
        """Compare [start, end) (default: the last `lookback`, up to now; at most the last
        `MAX_WINDOW` of it, with `start` snapped down to the hour); raise events."""
        now = self.clock()
        end = min(as_utc(end) if end is not None else now, now)
        start = floor_bucket(as_utc(start) if start is not None else end - self.lookback, "hour")
        if end <= start:
            raise InvalidInput("end must be after start (and start before now)")
        if end - start > MAX_WINDOW:
            start = floor_bucket(end - MAX_WINDOW, "hour")
        report = Reconciliation(checked_at=now, start=start, end=end)
        edges = [start]
        while edges[-1] < end:
            edges.append(edges[-1] + timedelta(hours=1))
        try:
            pods = await self._client.pod_billing(
                start_time=start, end_time=end, bucket_size="hour"
            )
        except RunPodError as exc:
            report.error = f"cannot read RunPod pod billing: {exc}"
            if self.latest is None or self.latest.error is not None:
                self.latest = report
            return report
        billed: dict[tuple[str, str, datetime], Decimal] = defaultdict(Decimal)
        for record in pods.records:
            if record.start_time is not None and record.pod_id:
                billed[("pod", record.pod_id, record.start_time)] += record.total_amount
        try:
            volumes = await self._client.network_volume_billing(
                start_time=start, end_time=end, bucket_size="hour"
            )
        except RunPodError as exc:  # pods still compare; say what is missing
            report.error = f"cannot read RunPod network volume billing: {exc}"
        else:
            for vrec in volumes.records:
                if vrec.start_time is not None and vrec.network_volume_id:
                    key = ("network_volume", vrec.network_volume_id, vrec.start_time)
                    billed[key] += vrec.total_amount
        billed_pods = {rid for kind, rid, _ in billed if kind == "pod"}
        async with self._sessions() as session:
            owners = await self._our_pods(session, start, end, billed_pods)
            owners.update(await self._our_volumes(session, start))
            parts = await split_segments(session, edges, pod_ids=list(billed_pods | set(owners)))
            volume_parts = await split_volume_segments(session, edges)
        metered: dict[tuple[str, str, datetime], Decimal] = defaultdict(Decimal)
        for index, part in enumerate(parts):
            for (_dep, pod_id, _gpu), amounts in part.items():
                metered[("pod", pod_id, edges[index])] += amounts.total
        for index, vpart in enumerate(volume_parts):
            for volume_id, amount in vpart.items():
                metered[("network_volume", volume_id, edges[index])] += amount
        for key, amount in billed.items():
            if key[0] == "pod" and key[1] not in owners:
                report.unmanaged_billed += amount
        for key in sorted({*metered, *billed}):
            _, resource, bucket = key
            kind: Kind = "pod" if key[0] == "pod" else "network_volume"
            if kind == "pod" and resource not in owners:
                continue
            dep_id, name, covered_until = owners.get(resource, (None, None, start))
            bucket_end = bucket + timedelta(hours=1)
            m, b = metered.get(key, Decimal(0)), billed.get(key, Decimal(0))
            settled = bucket_end <= now - self.settle and (
                covered_until is None or covered_until >= bucket_end
            )
            status: RowStatus = (
                "pending" if not settled else "mismatch" if is_mismatch(m, b) else "match"
            )
            report.rows.append(
                BucketRow(kind, resource, dep_id, name, bucket, bucket_end, m, b, status)
            )
        await self._raise_events([r for r in report.rows if r.status == "mismatch"])
        self.latest = report
        return report

    async def _our_volumes(
        self, session: AsyncSession, start: datetime
    ) -> dict[str, tuple[str | None, str | None, datetime | None]]:
        """Network volumes the volume meter knows: id → (None, name, metered until; None once
        gone and metered to its end)."""
        rows = await session.execute(
            select(
                NetworkVolumeRow.id,
                NetworkVolumeRow.name,
                NetworkVolumeRow.metered_until,
                NetworkVolumeRow.gone_at,
            )
        )
        return {
            str(vid): (None, str(name), None if gone is not None else until)
            for vid, name, until, gone in rows
        }

    async def _our_pods(
        self, session: AsyncSession, start: datetime, end: datetime, billed: set[str]
    ) -> dict[str, tuple[str | None, str | None, datetime | None]]:
        """Pods the meter knows in the window (or that RunPod billed and a deployment owns):
        pod → (deployment id, deployment name, metered until; None once metered to its end)."""
        metered_pods = set(
            await session.scalars(
                select(CostSegment.pod_id)
                .where(CostSegment.end_at > start, CostSegment.start_at < end)
                .distinct()
            )
        )
        current = await session.execute(
            select(
                Deployment.id,
                Deployment.name,
                Deployment.pod_id,
                Deployment.metered_until,
                Deployment.metered_status,
            ).where(Deployment.pod_id.in_(list(metered_pods | billed)))
        )
        ours: dict[str, tuple[str | None, str | None, datetime | None]] = {}
        for dep_id, name, pod_id, until, status in current:
            # The deployment's current pod is metered up to `until` (never, if still None).
            ours[str(pod_id)] = (dep_id, name, None if status == GONE else until or start)
        missing = metered_pods - set(ours)
        if missing:  # older pods of a deployment: metered to their end
            rows = await session.execute(
                select(CostSegment.pod_id, Deployment.id, Deployment.name)
                .join(Deployment, Deployment.id == CostSegment.deployment_id)
                .where(CostSegment.pod_id.in_(list(missing)))
                .distinct()
            )
            for pod_id, dep_id, name in rows:
                ours[pod_id] = (dep_id, name, None)
        return ours

    async def _raise_events(self, mismatches: list[BucketRow]) -> None:
        """One `billing_mismatch` per resource and hour: the event log remembers which were
        raised (read incrementally, so other processes' events count too)."""
        if not mismatches:
            return
        async with self._sessions() as session, session.begin():
            for event in await session.scalars(
                select(Event)
                .where(Event.type == MISMATCH_EVENT, Event.id > self._seen_event)
                .order_by(Event.id)
            ):
                self._seen_event = event.id
                data = event.data
                resource = data.get("network_volume_id") or event.pod_id or ""
                self._raised.add((str(resource), str(data.get("bucket_start"))))
            for row in mismatches:
                key = (row.resource_id, row.start.isoformat())
                if key in self._raised:
                    continue
                self._raised.add(key)
                pct = row.difference_pct
                volume = row.kind == "network_volume"
                await append_event(
                    session,
                    MISMATCH_EVENT,
                    deployment_id=row.deployment_id,
                    pod_id=None if volume else row.resource_id,
                    data={
                        "kind": row.kind,
                        "network_volume_id": row.resource_id if volume else None,
                        "bucket_start": row.start.isoformat(),
                        "bucket_end": row.end.isoformat(),
                        "metered_usd": str(row.metered.quantize(MICRO)),
                        "billed_usd": str(row.billed.quantize(MICRO)),
                        "difference_usd": str(row.difference.quantize(MICRO)),
                        "difference_pct": str(pct) if pct is not None else None,
                    },
                )
                log.warning(
                    "billing mismatch for %s %s at %s: metered %s, RunPod billed %s",
                    row.kind,
                    row.resource_id,
                    row.start.isoformat(),
                    row.metered,
                    row.billed,
                )


def balance_reader_for(settings: Settings, cloud: Cloud) -> BalanceReader:
    """A balance reader for the configured RunPod account, or the embedded emulator's."""
    if settings.runpod_api_key is not None:
        key: str | None = settings.runpod_api_key.get_secret_value()
        url = graphql_url_for(settings.runpod_api_url)
    else:
        key = cloud.emulator.config.api_key if cloud.emulator is not None else None
        url = graphql_url_for(cloud.client.base_url)
    return BalanceReader(BalanceClient(key, url) if key else None)
