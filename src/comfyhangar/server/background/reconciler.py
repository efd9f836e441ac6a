"""The reconciler: one pass makes RunPod match what users asked for.

Each cycle:
1. lists every pod of the account (one paginated `GET /v2/pods`, whatever the number of pods);
2. loads the deployments that are not terminated, and the pod rows;
3. matches pods to deployments by tag (`HANGAR_DEPLOYMENT_ID`); records untagged pods
   read-only (never touches them);
4. records each state change and its event in one transaction, guarded by the deployment's
   version so a change made meanwhile (by a user or another process) wins; adopts each orphan
   in a transaction of its own that creates its deployment holding the lease, so two
   processes never both adopt one pod;
5. starts the one RunPod action each deployment needs (`pod_actions`), under a lease.

A pod a deployment had that is missing from the list is looked up directly once before it is
declared gone (new pods can lag in the list); one first recorded less than `create_settle_s` ago
is not declared gone yet, since RunPod can also answer 404 for a new pod for a moment. RunPod being down or rate limiting only delays
cycles (with backoff); the API keeps serving, and `/health` shows how old the last cycle is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.backoff import Backoff
from comfyhangar.core.lifecycle import (
    DeploymentState,
    Desired,
    Observation,
    PodAction,
    decide,
)
from comfyhangar.core.names import MAX_NAME_CHARS, unique_name
from comfyhangar.core.setup_progress import setup_failure
from comfyhangar.runpod import NotFoundError, RateLimitedError, RunPodClient, RunPodError
from comfyhangar.runpod.models import Pod, PodStatus
from comfyhangar.runpod.provisioning import DEPLOYMENT_ENV
from comfyhangar.server.background.leases import claim_new, utcnow
from comfyhangar.server.background.pod_actions import ActionSettings, Planned, PodActions
from comfyhangar.server.background.pod_rows import differs, record_pod
from comfyhangar.server.db.events import STATE_EVENT, append_event, state_event_data
from comfyhangar.server.db.models import Deployment, DeploymentSecret
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.costs import cost_in, current_rate

log = logging.getLogger(__name__)

DEPLOYMENT_ID = re.compile(r"[0-9a-f]{32}")  # fullmatch: a tag "…\n" is not ours
GONE = (PodStatus.TERMINATED,)


@dataclass(frozen=True)
class ReconcilerSettings:
    interval_s: float = 5.0
    max_backoff_s: float = 60.0
    actions: ActionSettings = field(default_factory=ActionSettings)


@dataclass
class CycleReport:
    listed: int = 0
    state_changes: int = 0
    actions: list[tuple[str, str]] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    strays_terminated: list[str] = field(default_factory=list)


class Reconciler:
    """Runs cycles on an interval, or at once when woken (a user asked for something)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: RunPodClient,
        catalog: Catalog,
        settings: ReconcilerSettings | None = None,
    ) -> None:
        self.settings = settings or ReconcilerSettings()
        self._sessions = sessions
        self._client = client
        self.actions = PodActions(sessions, client, catalog, self.settings.actions)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_cycle_at: datetime | None = None
        self.last_error: str | None = None
        #: The latest listing, by pod id: runtime metrics (uptime, utilisation) are served
        #: from here rather than written to the database every cycle.
        self.pods: dict[str, Pod] = {}
        #: Called with each cycle's listing once its changes are recorded (the cost meter).
        self.observers: list[Callable[[list[Pod]], Awaitable[None]]] = []

    def wake(self) -> None:
        """Run a cycle as soon as possible."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.actions.stop()

    async def _loop(self) -> None:
        # After n failed cycles in a row: between half and all of interval * 2**n, capped.
        backoff = Backoff(self.settings.interval_s, self.settings.max_backoff_s, jitter=0.5)
        delay = self.settings.interval_s
        failures = 0
        retry_after = 0.0
        while True:
            if retry_after > 0:
                # RunPod said when: no wake (a user's request) makes the next call sooner.
                await asyncio.sleep(retry_after)
                retry_after = 0.0
            else:
                # A wake cuts the wait short, a backoff included: a user's stop is tried at once.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            self._wake.clear()
            try:
                await self.cycle()
                self.last_error = None
                delay, failures = self.settings.interval_s, 0
            except RateLimitedError as exc:
                self.last_error = f"RunPod rate limit: {exc}"
                retry_after = max(exc.retry_after or 1.0, self.settings.interval_s)
            except RunPodError as exc:
                self.last_error = f"RunPod unreachable or failing: {exc}"
                failures += 1
                delay = max(backoff.delay(failures), self.settings.interval_s)
            except Exception as exc:
                log.exception("reconcile cycle failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
                failures += 1
                delay = max(backoff.delay(failures), self.settings.interval_s)

    async def cycle(self) -> CycleReport:
        """One full pass: list, match, record, act. Raises on RunPod errors (nothing recorded)."""
        # Versions before listing: a deployment that changes while we list (an action of this
        # or another process applied, a user asked) may have a pod the listing shows as it was
        # before; acting on that would repeat the action and record a stale status. Skip it.
        async with self._sessions() as session:
            versions = await session.execute(
                select(Deployment.id, Deployment.version).where(
                    Deployment.state != DeploymentState.TERMINATED.value
                )
            )
            before: dict[str, int] = dict(versions.all())
        listing = await self._client.list_pods()
        now = utcnow()
        self.pods = {p.id: p for p in listing}
        report = CycleReport(listed=len(listing))
        tagged: dict[str, list[Pod]] = {}
        untagged: list[Pod] = []
        for pod in listing:
            tag = pod.env.get(DEPLOYMENT_ENV, "")
            if DEPLOYMENT_ID.fullmatch(tag) and pod.status not in GONE:
                tagged.setdefault(tag, []).append(pod)
            elif pod.status not in GONE:
                untagged.append(pod)

        async with self._sessions() as session:
            deployments = list(
                await session.scalars(
                    select(Deployment)
                    .where(Deployment.state != DeploymentState.TERMINATED.value)
                    .order_by(Deployment.id)  # rows are locked in one order by every process
                )
            )
            rows = {
                r.id: r
                for r in await session.scalars(select(PodRow).where(PodRow.gone_at.is_(None)))
            }
            unknown = set(tagged) - {d.id for d in deployments}
            finished = set()
            if unknown:
                finished = set(
                    await session.scalars(select(Deployment.id).where(Deployment.id.in_(unknown)))
                )

        # Pods of deployments that were missing from the list: ask for them directly, once.
        direct: dict[str, Pod | None] = {}
        for dep in deployments:
            if dep.pod_id and dep.id not in tagged and dep.pod_id in rows:
                direct[dep.id] = await self._lookup(dep.pod_id)

        plans: list[Planned] = []
        # Tagged pods that must not exist: a second pod of one deployment, or of a finished one.
        strays: list[str] = []
        async with self._sessions() as session, session.begin():
            for dep in deployments:
                if self._held_elsewhere(dep, now) or self.actions.busy(dep.id):
                    continue
                if before.get(dep.id) != dep.version:
                    continue  # changed while we listed: the next cycle looks again
                live = tagged.get(dep.id, [])
                current = _choose(dep, live) or direct.get(dep.id)
                if current is None and self._just_created(rows.get(dep.pod_id or ""), now):
                    continue  # a new pod can be missing from the list and 404 for a moment
                strays.extend(p.id for p in live if current is not None and p.id != current.id)
                planned = await self._observe(session, dep, current, rows, now, report)
                if planned is not None:
                    plans.append(planned)
            # Tagged pods of deployments terminated here: they should not exist. Terminate.
            strays.extend(p.id for dep_id in finished for p in tagged[dep_id])
            for other in untagged:
                row = rows.get(other.id)
                if row is None or differs(row, other):
                    await record_pod(session, other, None)
            listed_ids = {p.id for p in listing if p.status not in GONE}
            vanished = [
                r.id for r in rows.values() if r.id not in listed_ids and r.deployment_id is None
            ]
            if vanished:
                await _mark_gone(session, vanished, now)
            await _append_deferred_events(session)

        for pod_id in strays:
            log.warning(
                "terminating pod %s: a second pod of one deployment, or of a finished one", pod_id
            )
            await self._client.ensure_terminated(pod_id)
            report.strays_terminated.append(pod_id)
        for planned in plans:
            report.actions.append((planned.deployment_id, planned.action.value))
            self.actions.start(planned)
        # Orphans, each in its own transaction under a new deployment's lease (after the actions
        # are under way): of two processes that list the same orphan, one adopts it and the
        # other's cycle goes on unharmed.
        for dep_id in sorted(unknown - finished):
            await self._adopt(dep_id, tagged[dep_id], report)
        for observer in self.observers:
            try:
                await observer(listing)
            except Exception:  # an observer's failure must not stop reconciling
                log.exception("reconcile observer failed")
        self.last_cycle_at = utcnow()
        return report

    async def _lookup(self, pod_id: str) -> Pod | None:
        try:
            pod = await self._client.get_pod(pod_id)
        except NotFoundError:
            return None
        return None if pod.status in GONE else pod

    def _just_created(self, row: PodRow | None, now: datetime) -> bool:
        """Whether the pod was first recorded within the create settle time."""
        settle = self.settings.actions.create_settle_s
        return row is not None and (now - row.first_seen_at).total_seconds() < settle

    @staticmethod
    def _held_elsewhere(dep: Deployment, now: datetime) -> bool:
        return (
            dep.lock_token is not None
            and dep.lock_expires_at is not None
            and dep.lock_expires_at > now
        )

    async def _observe(
        self,
        session: AsyncSession,
        dep: Deployment,
        pod: Pod | None,
        rows: dict[str, PodRow],
        now: datetime,
        report: CycleReport,
    ) -> Planned | None:
        """Record what changed for `dep`; return the action it needs, if any."""
        status = pod.status.value if pod is not None else None
        failed = dep.state == DeploymentState.FAILED.value
        # A stop or terminate asked with a reason (a budget's) recorded it as the state reason.
        asked = not failed and dep.desired_state != Desired.RUNNING.value
        verdict = decide(
            Observation(
                desired=Desired(dep.desired_state),
                pod_status=status,
                ever_had_pod=dep.pod_id is not None,
                setup_ready=dep.setup_ready,
                restart_requested=dep.restart_requested,
                failed_reason=dep.state_reason if failed else None,
                request_reason=dep.state_reason if asked else None,
                setup_failed=setup_failure(dep.setup),
            )
        )
        values: dict[str, Any] = {}
        if verdict.state.value != dep.state or verdict.reason != dep.state_reason:
            values.update(state=verdict.state.value, state_reason=verdict.reason)
        if dep.setup_ready and status != PodStatus.RUNNING.value:
            values["setup_ready"] = False
        if pod is not None and dep.pod_id != pod.id:
            values["pod_id"] = pod.id  # adopted after a lost create response, say
        if values:
            result = await session.execute(
                update(Deployment)
                .where(Deployment.id == dep.id, Deployment.version == dep.version)
                .values(version=Deployment.version + 1, updated_at=now, **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None  # changed meanwhile: next cycle
            dep.version += 1
            if verdict.state is DeploymentState.TERMINATED:
                # The pod is gone for good: its tokens have nothing left to open.
                await session.execute(
                    delete(DeploymentSecret).where(DeploymentSecret.deployment_id == dep.id)
                )
            if "state" in values:
                report.state_changes += 1
                # The rate of the new state: the pod row is recorded below from this `pod`.
                rate = current_rate(dep.spec, status, pod.cost if pod is not None else Decimal(0))
                cost = await cost_in(session, dep, rate)
                _defer_event(
                    session,
                    STATE_EVENT,
                    deployment_id=dep.id,
                    pod_id=pod.id if pod else dep.pod_id,
                    data=state_event_data(
                        verdict.state.value, dep.state, verdict.reason, cost.event_data()
                    ),
                )
        await self._record_pod_change(session, dep, pod, rows, now)
        if verdict.action is None:
            return None
        if verdict.action is PodAction.CREATE and dep.create_intent_at is not None:
            settle = self.settings.actions.create_settle_s
            if (now - dep.create_intent_at).total_seconds() < settle:
                return None  # an interrupted create may still show up: wait, then look again
        return Planned(
            dep.id,
            dep.version,
            verdict.action,
            dict(dep.spec),
            pod.id if pod else dep.pod_id,
            dep.create_intent_at,
        )

    async def _record_pod_change(
        self,
        session: AsyncSession,
        dep: Deployment,
        pod: Pod | None,
        rows: dict[str, PodRow],
        now: datetime,
    ) -> None:
        row = rows.get(dep.pod_id) if dep.pod_id else None
        if pod is not None:
            previous = rows.get(pod.id)
            if previous is None or differs(previous, pod):
                await record_pod(session, pod, dep.id)
                if previous is None or previous.status != pod.status.value:
                    _defer_event(
                        session,
                        EventType.POD_STATUS,
                        deployment_id=dep.id,
                        pod_id=pod.id,
                        data={
                            "status": pod.status.value,
                            "previous": previous.status if previous else None,
                            "cost_per_hour": str(pod.cost),
                        },
                    )
        elif row is not None and row.gone_at is None:
            await _mark_gone(session, [row.id], now)
            _defer_event(
                session, EventType.POD_TERMINATED, deployment_id=dep.id, pod_id=row.id, data={}
            )

    async def _adopt(self, dep_id: str, pods: list[Pod], report: CycleReport) -> None:
        """A tagged pod with no deployment here (created before a crash, or by another server):
        make its deployment, holding the lease, with the pod row and the event, in one
        transaction. Nothing happens if another process made it first."""
        pod = min(pods, key=lambda p: (p.created_at is None, p.created_at))
        running = pod.status in (PodStatus.PROVISIONING, PodStatus.STARTING, PodStatus.RUNNING)
        mounts = pod.mounts
        async with self._sessions() as session, session.begin():
            # Not a name a live deployment has (the database would refuse it).
            live_names = set(
                await session.scalars(
                    select(Deployment.name).where(
                        Deployment.state != DeploymentState.TERMINATED.value
                    )
                )
            )
            spec: dict[str, Any] = {
                "name": unique_name(pod.name[:MAX_NAME_CHARS] or dep_id[:8], live_names),
                "gpu": {
                    "id": pod.gpu_type_id or "unknown",
                    "count": pod.gpu.count if pod.gpu else 1,
                },
                "fallback_gpu_ids": [],
                "cloud": pod.cloud.value,
                "data_center_ids": [pod.data_center_id] if pod.data_center_id else [],
                "container_disk_gb": pod.disk or 0,
                "volume_gb": mounts.persistent.size if mounts.persistent else None,
                "network_volume_id": mounts.network[0].volume_id if mounts.network else None,
                "image": pod.image,
                "manifest": {},
                "env": {},
                "adopted": True,
            }
            lease = await claim_new(
                session,
                self._sessions,
                {
                    "id": dep_id,
                    "name": spec["name"],
                    "spec": spec,
                    "desired_state": (Desired.RUNNING if running else Desired.STOPPED).value,
                    "state": DeploymentState.PENDING.value,
                    "pod_id": pod.id,
                },
                self.settings.actions.lease_s,
            )
            if lease is None:
                return  # adopted by another process (or its name taken meanwhile: next cycle)
            await record_pod(session, pod, dep_id)
            await lease.apply(session, {})
            await session.flush()  # row changes before the event lock, as in the cycle
            await append_event(
                session,
                EventType.POD_ADOPTED,
                deployment_id=dep_id,
                pod_id=pod.id,
                data={"status": pod.status.value, "name": pod.name},
            )
        report.adopted.append(dep_id)


_DEFERRED = "reconciler_deferred_events"


def _defer_event(session: AsyncSession, type: EventType, **kwargs: Any) -> None:
    """Queue an event of the cycle's transaction; `_append_deferred_events` appends them.

    Appending takes the event log's lock (PostgreSQL: an advisory lock held to commit). Other
    transactions lock a deployment row first and then append; if the cycle appended an event and
    then updated another deployment, each would wait for the other: a deadlock, which aborted
    users' requests with a 500. So the cycle does every row update first, events last.
    """
    session.info.setdefault(_DEFERRED, []).append((type, kwargs))


async def _append_deferred_events(session: AsyncSession) -> None:
    await session.flush()  # every row change before the event lock
    for type_, kwargs in session.info.pop(_DEFERRED, []):
        await append_event(session, type_, **kwargs)


async def _mark_gone(session: AsyncSession, pod_ids: list[str], now: datetime) -> None:
    await session.execute(
        update(PodRow)
        .where(PodRow.id.in_(pod_ids))
        .values(gone_at=now, status=PodStatus.TERMINATED.value)
        .execution_options(synchronize_session=False)
    )


def _choose(dep: Deployment, live: list[Pod]) -> Pod | None:
    """The deployment's pod among the live tagged ones: the known one, else the oldest."""
    if not live:
        return None
    for pod in live:
        if pod.id == dep.pod_id:
            return pod
    return min(live, key=lambda p: (p.created_at is None, p.created_at))
