"""The idle guard: never pay for a pod nobody uses.

Each pass (every `HANGAR_IDLE_CHECK_INTERVAL_S`):
- deployments on their way up (pending ... installing, restarting) get their clock set to now:
  setup is never idle time;
- each ready deployment's activity sources are read (idle_activity.py), then `core.idle`
  decides; the new clock, and a warning or the stop/terminate with its events, are written in
  one transaction under the deployment's lease (taken at the version read before the
  signals, so a user's change meanwhile, a keep-awake say, wins and the guard looks again);
- each stopped deployment whose policy terminates after some days stopped is checked likewise.

The stop or terminate goes through `DeploymentService.ask_in`, the path of a user's own stop:
the reconciler then acts on the pod under its lease, and cost and budgets follow as for any
stop. The clock lives in the database, so a restart of the server continues it; several
replicas may run guards side by side, the lease lets one act per look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.idle import (
    Act,
    Deadline,
    IdleClock,
    IdleMode,
    IdlePolicy,
    Signal,
    assess_ready,
    assess_stopped,
)
from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.server.background.idle_activity import (
    ActivitySource,
    ActivityTarget,
    default_sources,
)
from comfyhangar.server.background.leases import acquire
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.comfyui_access import ComfyEndpoint
from comfyhangar.server.services.costs import CENT, pod_shape
from comfyhangar.server.services.deployments import DeploymentService
from comfyhangar.server.services.idle import effective_policy

log = logging.getLogger(__name__)

WARNING_EVENT = EventType.IDLE_WARNING
ACTION_EVENT = EventType.IDLE_ACTION
WITHDRAWN_EVENT = EventType.IDLE_WARNING_WITHDRAWN
# States on the way up: the pod is being made or set up, which is never idle time.
BUSY_STATES = tuple(
    s.value
    for s in (
        DeploymentState.PENDING,
        DeploymentState.CREATING,
        DeploymentState.PROVISIONING,
        DeploymentState.STARTING,
        DeploymentState.INSTALLING,
        DeploymentState.RESTARTING,
    )
)
SOURCE_TIMEOUT_S = 20.0  # a source that takes longer counts as active (unreadable)

EndpointFor = Callable[[Deployment], Awaitable[ComfyEndpoint]]


@dataclass
class GuardReport:
    checked: int = 0
    warned: list[str] = field(default_factory=list)
    acted: list[tuple[str, str]] = field(default_factory=list)  # (deployment id, action)


class IdleGuard:
    """Runs passes on an interval; `check()` runs one (tests drive it by hand)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        deployments: DeploymentService,
        endpoint: EndpointFor,
        default: IdlePolicy,
        clock: Callable[[], datetime],
        *,
        interval_s: float = 30.0,
        lease_s: float = 30.0,
        sources: list[ActivitySource] | None = None,
        concurrency: int = 8,
    ) -> None:
        self._sessions = sessions
        self._deployments = deployments
        #: How a deployment's ComfyUI is reached (comfyui_access.comfyui_endpoint).
        self.endpoint = endpoint
        self.default = default
        self._clock = clock
        self._interval_s = interval_s
        self._lease_s = lease_s
        #: Every activity source read for each ready deployment (idle_activity.py).
        self.sources: list[ActivitySource] = sources if sources is not None else default_sources()
        self._limit = asyncio.Semaphore(concurrency)
        self._task: asyncio.Task[None] | None = None
        self.last_check_at: datetime | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="idle-guard")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # a failed pass must not end the guard; the next one retries
                log.exception("idle guard pass failed")
            await asyncio.sleep(self._interval_s)

    async def check(self) -> GuardReport:
        """One pass over every deployment that is not terminated."""
        now = self._clock()
        report = GuardReport()
        async with self._sessions() as session, session.begin():
            # Setup and starts are never idle time: the clock restarts at ready.
            await session.execute(
                update(Deployment)
                .where(Deployment.state.in_(BUSY_STATES))
                .values(
                    last_activity_at=now,
                    idle_warned_at=None,
                    idle_checked_at=None,
                    stopped_since=None,
                )
                .execution_options(synchronize_session=False)
            )
        async with self._sessions() as session:
            deployments = list(
                await session.scalars(
                    select(Deployment).where(
                        Deployment.state.in_(
                            (DeploymentState.READY.value, DeploymentState.STOPPED.value)
                        )
                    )
                )
            )
        await asyncio.gather(*(self._guarded(dep, report) for dep in deployments))
        self.last_check_at = now
        return report

    async def _guarded(self, dep: Deployment, report: GuardReport) -> None:
        async with self._limit:
            try:
                if dep.state == DeploymentState.READY.value:
                    if dep.desired_state == Desired.RUNNING.value:
                        await self._check_ready(dep, report)
                elif dep.desired_state == Desired.STOPPED.value:
                    await self._check_stopped(dep, report)
            except Exception:
                log.exception("idle check of %s failed", dep.id)

    # --- ready -------------------------------------------------------------------------------

    async def _check_ready(self, dep: Deployment, report: GuardReport) -> None:
        policy = effective_policy(dep.idle_policy, self.default)
        previous = {s.get("source"): s for s in dep.idle_signals or [] if isinstance(s, dict)}
        signals = await asyncio.gather(
            *(self._read(source, dep, previous.get(source.name), policy) for source in self.sources)
        )
        now = self._clock()
        clock = IdleClock(
            # The first look since ready starts the clock (None: `assess_ready` sets now).
            last_activity_at=dep.last_activity_at if dep.idle_checked_at is not None else None,
            warned_at=dep.idle_warned_at,
            keep_awake_until=dep.keep_awake_until,
        )
        verdict = assess_ready(policy, clock, signals, now)
        report.checked += 1
        values: dict[str, Any] = {
            "last_activity_at": verdict.clock.last_activity_at,
            "idle_warned_at": verdict.clock.warned_at,
            "idle_checked_at": now,
            "idle_signals": [_stored(s) for s in signals],
            "stopped_since": None,
        }
        since = verdict.clock.last_activity_at or now
        action = "terminate" if policy.mode is IdleMode.TERMINATE else "stop"
        withdrawn = None
        if dep.idle_warned_at is not None and verdict.clock.warned_at is None:
            withdrawn = "; ".join(s.reason for s in verdict.active) or "kept awake"
        outlook = Outlook(since, verdict.deadline, action, stopped=False, withdrawn=withdrawn)
        await self._apply(dep, values, verdict.act, now, report, outlook)

    async def _read(
        self,
        source: ActivitySource,
        dep: Deployment,
        previous: dict[str, Any] | None,
        policy: IdlePolicy,
    ) -> Signal:
        target = ActivityTarget(
            deployment=dep,
            previous=_signal(previous) if previous is not None else None,
            endpoint=lambda: self.endpoint(dep),
            policy=policy,
        )
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_S):
                return await source.read(target)
        except Exception as exc:  # unreadable is active: never stop a pod we cannot see
            log.debug("activity source %s of %s failed", source.name, dep.id, exc_info=True)
            detail = (
                "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            )
            return Signal(
                source.name, True, f"cannot read {source.name}: {detail}", unreadable=True
            )

    # --- stopped -----------------------------------------------------------------------------

    async def _check_stopped(self, dep: Deployment, report: GuardReport) -> None:
        policy = effective_policy(dep.idle_policy, self.default)
        if policy.terminate_after_stopped_days is None:
            return
        now = self._clock()
        # Counted from the guard's first look at it stopped (on the guard's clock, which may
        # be a simulated cloud's; no event time is mixed in).
        first = dep.stopped_since is None
        stopped_since = dep.stopped_since or now
        # A warning given while it was ready (an idle stop's) is not this timer's.
        warned_at = None if first else dep.idle_warned_at
        act, due = assess_stopped(policy, stopped_since, warned_at, now)
        report.checked += 1
        if act is Act.NOTHING and not first:
            return  # nothing to write
        values: dict[str, Any] = {"stopped_since": stopped_since, "idle_warned_at": warned_at}
        if act is Act.WARN:
            values["idle_warned_at"] = now
        outlook = Outlook(stopped_since, due, "terminate", stopped=True)
        await self._apply(dep, values, act, now, report, outlook)

    # --- writing -----------------------------------------------------------------------------

    async def _apply(
        self,
        dep: Deployment,
        values: dict[str, Any],
        act: Act,
        now: datetime,
        report: GuardReport,
        outlook: Outlook,
    ) -> None:
        """Write the clock (and a warning or an action) under the lease, at the version read."""
        lease = await acquire(self._sessions, dep.id, dep.version, self._lease_s)
        if lease is None:
            return  # changed since we looked (a user, the reconciler): the next pass looks again
        asked = False
        async with self._sessions() as session, session.begin():
            await lease.apply(session, values)
            if outlook.withdrawn is not None:
                await append_event(
                    session,
                    WITHDRAWN_EVENT,
                    deployment_id=dep.id,
                    pod_id=dep.pod_id,
                    data={"reason": outlook.withdrawn},
                )
            if act is Act.WARN and outlook.deadline is not None:
                due = outlook.deadline
                await append_event(
                    session,
                    WARNING_EVENT,
                    deployment_id=dep.id,
                    pod_id=dep.pod_id,
                    data={
                        "action": outlook.action,
                        "acts_at": due.acts_at.isoformat(),
                        "seconds_left": max(0, round((due.acts_at - now).total_seconds())),
                        "idle_since": due.since.isoformat(),
                        "reason": _why(outlook),
                    },
                )
                report.warned.append(dep.id)
            elif act in (Act.STOP, Act.TERMINATE):
                row = await session.get(PodRow, dep.pod_id) if dep.pod_id else None
                span = now - outlook.since
                reason = (
                    f"stopped for {_duration(span)}"
                    if outlook.stopped
                    else f"idle for {_duration(span)}: nothing used the pod"
                )
                note = {
                    "action": act.value,
                    "reason": reason,
                    "idle_hours": round(span.total_seconds() / 3600, 4),
                    "last_activity_at": outlook.since.isoformat(),
                    "saved_per_hour_usd": str(_saved(dep, row, act.value, stopped=outlook.stopped)),
                }
                asked = await self._deployments.ask_in(
                    session,
                    dep.id,
                    act.value,
                    source="idle",
                    reason=f"idle guard: {reason}",
                    note=(ACTION_EVENT, note),
                )
                if asked:
                    report.acted.append((dep.id, act.value))
        if asked:
            log.info("idle guard asked to %s deployment %s", act.value, dep.id)
            self._deployments.wake()


@dataclass(frozen=True)
class Outlook:
    """What a look found: counted from `since`, the deadline, and the action it leads to."""

    since: datetime
    deadline: Deadline | None
    action: str
    stopped: bool  # the terminate-after-stopped timer
    withdrawn: str | None = None  # why a warning given no longer holds (the pod is used)


def _why(outlook: Outlook) -> str:
    if outlook.stopped:
        return "stopped for as long as its idle policy keeps a stopped deployment"
    return f"nothing has used the pod; it will {outlook.action} unless used or kept awake"


def _saved(dep: Deployment, row: PodRow | None, what: str, *, stopped: bool) -> Decimal:
    """What the action saves per hour: GPU and container disk for a stop (the volume still
    bills stopped), everything for a terminate."""
    if row is None:
        return Decimal(0)
    shape = pod_shape(dep.spec, row.cost_per_hour)
    running = shape.rate("RUNNING").total
    exited = shape.rate("EXITED").total
    if stopped:
        return exited.quantize(CENT)
    return (running if what == "terminate" else running - exited).quantize(CENT)


def _duration(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def _stored(signal: Signal) -> dict[str, Any]:
    return {
        "source": signal.source,
        "active": signal.active,
        "reason": signal.reason,
        "unreadable": signal.unreadable,
        "memo": signal.memo,
    }


def _signal(stored: dict[str, Any]) -> Signal:
    return Signal(
        source=str(stored.get("source", "")),
        active=bool(stored.get("active")),
        reason=str(stored.get("reason", "")),
        unreadable=bool(stored.get("unreadable")),
        memo=stored.get("memo"),
    )
