"""Live events: one tail of the events table per process, fanned out to every subscriber.

The events table is the source of truth. Each process runs one `EventHub` task that reads new
rows (`id > last seen`) when woken, and hands them to subscribers' queues. It is woken:
- in-process, right after a transaction that appended events commits (`notify_committed`);
- across processes on PostgreSQL, by `LISTEN hangar_events` (every `append_event` issues a
  `pg_notify` that PostgreSQL delivers at commit);
- and, as a safety net, by a timer (`poll_interval`), so a missed wake-up costs latency, never data.

A subscriber that connects with a `Last-Event-ID` first catches up from the table, then follows
the live feed; ids are strictly increasing in commit order (see `db.events`), so "every id above
the last one sent" is exactly what it missed, nothing twice. A subscriber too slow to keep up is
dropped; its client reconnects with its last id and catches up from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.server.db.events import NOTIFY_CHANNEL, events_after, last_event_id
from comfyhangar.server.db.models import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveEvent:
    """An event as streams send it: plain data, detached from any session."""

    id: int
    type: str
    created_at: datetime
    deployment_id: str | None
    pod_id: str | None
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Event) -> LiveEvent:
        return cls(row.id, row.type, row.created_at, row.deployment_id, row.pod_id, dict(row.data))

    def payload(self) -> dict[str, Any]:
        """The JSON body of the SSE `data:` field."""
        return {
            "id": self.id,
            "type": self.type,
            "time": self.created_at.isoformat(),
            "deployment_id": self.deployment_id,
            "pod_id": self.pod_id,
            "data": self.data,
        }


class SubscriberTooSlowError(Exception):
    """The subscriber's queue overflowed; it must reconnect and catch up from the table."""


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[LiveEvent | None]
    overflowed: bool = False


class EventHub:
    """Reads committed events once per process and fans them out to live subscribers."""

    QUEUE_SIZE = 1000
    BATCH = 500

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        database_url: str,
        poll_interval: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._database_url = database_url
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._subscribers: set[_Subscriber] = set()
        self._last_id = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None

    @property
    def last_id(self) -> int:
        """The newest event id this hub has fanned out."""
        return self._last_id

    async def start(self) -> None:
        async with self._sessions() as session:
            self._last_id = await last_event_id(session)
        if make_url(self._database_url).get_backend_name() == "postgresql":
            await self._listen()
        self._tasks.append(asyncio.create_task(self._run(), name="event-hub"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
        for subscriber in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(None)

    def notify_committed(self) -> None:
        """Wake the tail now: a transaction of this process that appended events committed."""
        self._wake.set()

    async def _listen(self) -> None:
        dsn = make_url(self._database_url).set(drivername="postgresql")
        self._listener = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        await self._listener.add_listener(NOTIFY_CHANNEL, self._on_notify)

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # races with the wake-up, and stop() would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except Exception:  # keep tailing: the next wake or tick retries
                log.exception("event hub could not read new events")
                await asyncio.sleep(self._poll_interval)

    async def _drain(self) -> None:
        while True:
            async with self._sessions() as session:
                rows = await events_after(session, self._last_id, limit=self.BATCH)
            if not rows:
                return
            for row in rows:
                self._fan_out(LiveEvent.from_row(row))
            self._last_id = rows[-1].id
            if len(rows) < self.BATCH:
                return

    def _fan_out(self, event: LiveEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                self._subscribers.discard(subscriber)

    async def subscribe(
        self, after_id: int, *, accept: Callable[[LiveEvent], bool] | None = None
    ) -> AsyncIterator[LiveEvent]:
        """Every event with an id above `after_id`, in order: first from the table, then live.

        Raises `SubscriberTooSlowError` when the consumer fell too far behind.
        """
        subscriber = _Subscriber(asyncio.Queue(maxsize=self.QUEUE_SIZE))
        self._subscribers.add(subscriber)  # before catching up: nothing falls in between
        sent = after_id
        try:
            while True:  # catch up from the table
                async with self._sessions() as session:
                    rows = await events_after(session, sent, limit=self.BATCH)
                for row in rows:
                    sent = row.id
                    event = LiveEvent.from_row(row)
                    if accept is None or accept(event):
                        yield event
                if len(rows) < self.BATCH:
                    break
            while True:
                if subscriber.overflowed:  # what is queued is stale; the table has it all
                    raise SubscriberTooSlowError
                item = await subscriber.queue.get()
                if item is None:
                    return
                if item.id <= sent:
                    continue
                sent = item.id
                if accept is None or accept(item):
                    yield item
        finally:
            self._subscribers.discard(subscriber)
