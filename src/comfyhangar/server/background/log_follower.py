"""Follows the log stream of every running pod: a bounded tail, and setup progress as events.

For each deployment whose pod is STARTING or RUNNING, one task reads RunPod's log stream from
the stored cursor (`Last-Event-ID`). Lines are written in batches; each batch, the new cursor,
the setup progress it carries and its `setup_progress` events commit in one transaction, and
only if the cursor is still the one the batch started from. So a restart resumes exactly where
the last commit ended (no line lost or repeated), and two server processes following the same
pod cannot both write a batch: the loser starts again from the winner's cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.agent.protocol import parse_progress_line
from comfyhangar.core.backoff import Backoff
from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.core.setup_progress import fold_progress
from comfyhangar.runpod import RunPodClient, RunPodError
from comfyhangar.runpod.errors import RateLimitedError
from comfyhangar.runpod.models import LogEvent
from comfyhangar.server.background.leases import utcnow
from comfyhangar.server.db.events import append_event, append_state_event
from comfyhangar.server.db.models import Deployment, LogLine
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.events import EventType

log = logging.getLogger(__name__)

TAIL_LINES = 2000
BACKFILL = 5000
FLUSH_EVERY_S = 0.5
FLUSH_LINES = 200
FOLLOWED_STATUSES = ("STARTING", "RUNNING")
RETRY_MAX_S = 120.0
_jitter = random.Random()  # noqa: S311 - jitter; its own generator leaves the global one alone


def retry_delay(
    failures: int, base_s: float, error: RunPodError, rand: Callable[[], float] | None = None
) -> float:
    """How long a follower waits after its `failures`-th failure in a row: RunPod's own
    `Retry-After` on a 429, else `base_s` doubling up to two minutes, with jitter so that the
    followers of many pods do not all come back in the same second after an outage."""
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        return max(float(error.retry_after), base_s)
    shape = Backoff(base_s, RETRY_MAX_S, jitter=0.5, random=rand or _jitter.random)
    return shape.delay(failures - 1)


class CursorMovedError(Exception):
    """Another process committed lines past our starting point; restart from its cursor."""


@dataclass(frozen=True)
class Target:
    deployment_id: str
    pod_id: str


class LogFollower:
    """Keeps one follow task per deployment whose pod runs; rescans every `interval_s`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: RunPodClient,
        *,
        interval_s: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._interval = interval_s
        self._tasks: dict[Target, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="log-follower")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _loop(self) -> None:
        while True:
            try:
                await self.rescan()
            except Exception:
                log.exception("log follower rescan failed")
            await asyncio.sleep(self._interval)

    async def rescan(self) -> None:
        """Start followers for pods that run, stop those of pods that no longer do."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Deployment.id, Deployment.pod_id)
                .join(PodRow, PodRow.id == Deployment.pod_id)
                .where(
                    PodRow.status.in_(FOLLOWED_STATUSES),
                    PodRow.gone_at.is_(None),
                    Deployment.desired_state == Desired.RUNNING.value,
                )
            )
            wanted = {Target(dep_id, pod_id) for dep_id, pod_id in rows if pod_id}
        for target, task in list(self._tasks.items()):
            if target not in wanted or task.done():
                task.cancel()
                del self._tasks[target]
        for target in wanted - set(self._tasks):
            self._tasks[target] = asyncio.create_task(
                self._follow(target), name=f"logs:{target.deployment_id}"
            )

    async def _follow(self, target: Target) -> None:
        failures = 0
        previous: str | object | None = object()
        while True:
            cursor = await self._cursor(target.deployment_id)
            if cursor != previous:
                failures = 0  # lines arrived since the last failure: the stream works
            previous = cursor
            try:
                await self._read(target, cursor)
                return  # the stream ended: the pod is gone
            except CursorMovedError:
                continue
            except RunPodError as exc:
                failures += 1
                delay = retry_delay(failures, self._interval, exc)
                log.info(
                    "log stream of %s interrupted (%s); retrying in %.0f s",
                    target.pod_id,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _cursor(self, deployment_id: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Deployment.log_cursor).where(Deployment.id == deployment_id)
            )

    async def _read(self, target: Target, cursor: str | None) -> None:
        batch: list[LogEvent] = []
        stream = self._client.stream_logs(
            target.pod_id, last_event_id=cursor, tail=None if cursor else BACKFILL
        )
        queue: asyncio.Queue[LogEvent | None] = asyncio.Queue(maxsize=FLUSH_LINES * 4)

        async def pump() -> None:
            try:
                async for event in stream:
                    await queue.put(event)
            finally:
                await queue.put(None)

        reader = asyncio.create_task(pump())
        try:
            while True:
                item: LogEvent | None = None
                timed_out = False
                try:
                    async with asyncio.timeout(FLUSH_EVERY_S):
                        item = await queue.get()
                except TimeoutError:
                    timed_out = True
                if item is None and not timed_out:  # the stream ended
                    if batch:
                        await self._commit(target, cursor, batch)
                    reader.result()  # re-raise a stream error
                    return
                if item is not None:
                    batch.append(item)
                if batch and (timed_out or len(batch) >= FLUSH_LINES):
                    cursor = await self._commit(target, cursor, batch)
                    batch = []
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RunPodError):
                await reader

    async def _commit(self, target: Target, cursor: str | None, batch: list[LogEvent]) -> str:
        new_cursor = batch[-1].id
        progress = [p for p in (parse_progress_line(e.line) for e in batch) if p is not None]
        async with self._sessions() as session, session.begin():
            moved = await session.execute(
                update(Deployment)
                .where(
                    Deployment.id == target.deployment_id,
                    Deployment.log_cursor.is_(None)
                    if cursor is None
                    else Deployment.log_cursor == cursor,
                )
                .values(log_cursor=new_cursor)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise CursorMovedError
            session.add_all(
                LogLine(
                    deployment_id=target.deployment_id,
                    pod_id=target.pod_id,
                    log_id=e.id,
                    ts=e.ts or utcnow(),
                    source=e.source,
                    line=e.line,
                )
                for e in batch
            )
            if progress:
                await self._record_progress(session, target, progress)
            await _trim(session, target.deployment_id)
        return new_cursor

    async def _record_progress(
        self, session: AsyncSession, target: Target, progress: list[dict[str, Any]]
    ) -> None:
        dep = await session.get(Deployment, target.deployment_id)
        if dep is None:
            return
        # Steps move forward only within a run of the agent; a new run starts afresh. Lines
        # that would move a step back are stale and become no event either.
        fold = fold_progress(dep.setup, progress)
        for p in fold.accepted:
            await append_event(
                session,
                EventType.SETUP_PROGRESS,
                deployment_id=target.deployment_id,
                pod_id=target.pod_id,
                data={k: v for k, v in p.items() if k != "v"},
            )
        await session.execute(
            update(Deployment)
            .where(Deployment.id == target.deployment_id)
            .values(setup=fold.setup)
            .execution_options(synchronize_session=False)
        )
        ready = fold.ready and any(p["step"] == "ready" for p in fold.accepted)
        if fold.new_run and not ready and dep.setup_ready:
            # The agent started over (its container restarted): ComfyUI is not ready until this
            # run says so; the reconciler shows the deployment installing meanwhile.
            await session.execute(
                update(Deployment)
                .where(Deployment.id == target.deployment_id)
                .values(setup_ready=False, version=Deployment.version + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        if ready and not dep.setup_ready:
            # The reconciler turns this into `ready` as soon as it sees the pod RUNNING; when it
            # already has (state installing), say so now.
            now_ready = dep.state == DeploymentState.INSTALLING.value
            await session.execute(
                update(Deployment)
                .where(Deployment.id == target.deployment_id)
                .values(
                    setup_ready=True,
                    version=Deployment.version + 1,
                    updated_at=utcnow(),
                    **({"state": DeploymentState.READY.value} if now_ready else {}),
                )
                .execution_options(synchronize_session=False)
            )
            if now_ready:
                await append_state_event(
                    session,
                    target.deployment_id,
                    DeploymentState.READY.value,
                    dep.state,
                    pod_id=target.pod_id,
                )


async def _trim(session: AsyncSession, deployment_id: str) -> None:
    """Keep the newest `TAIL_LINES` lines of the deployment."""
    oldest_kept = await session.scalar(
        select(LogLine.id)
        .where(LogLine.deployment_id == deployment_id)
        .order_by(LogLine.id.desc())
        .offset(TAIL_LINES)
        .limit(1)
    )
    if oldest_kept is not None:
        await session.execute(
            delete(LogLine).where(LogLine.deployment_id == deployment_id, LogLine.id <= oldest_kept)
        )
