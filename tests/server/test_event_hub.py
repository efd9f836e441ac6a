"""The event hub: catch-up then live, nothing missed or repeated, woken across processes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from comfyhangar.server.db import append_event, make_engine, make_sessionmaker, migrate
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.event_hub import EventHub, LiveEvent, SubscriberTooSlowError


@dataclass
class Node:
    """One 'process': its own engine, sessions and hub."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    hub: EventHub


@contextlib.asynccontextmanager
async def node(url: str, *, poll_interval: float) -> AsyncIterator[Node]:
    engine = make_engine(url)
    holder: list[EventHub] = []
    sessions = make_sessionmaker(engine, on_events_committed=lambda: holder[0].notify_committed())
    hub = EventHub(sessions, database_url=url, poll_interval=poll_interval)
    holder.append(hub)
    await hub.start()
    try:
        yield Node(engine, sessions, hub)
    finally:
        await hub.stop()
        await engine.dispose()


async def emit(n: Node, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        async with n.sessions() as session, session.begin():
            await append_event(
                session, EventType.ERROR, deployment_id="d1", data={"message": str(i)}
            )


async def take(stream: AsyncIterator[LiveEvent], count: int, timeout: float = 5) -> list[LiveEvent]:
    async def _take() -> list[LiveEvent]:
        return [await anext(stream) for _ in range(count)]

    return await asyncio.wait_for(_take(), timeout)


async def test_subscriber_gets_history_then_live_in_order(database_url: str) -> None:
    await migrate(database_url)
    # A long poll interval: only the commit wake-up can deliver live events in time.
    async with node(database_url, poll_interval=60) as n:
        await emit(n, 3)
        stream = n.hub.subscribe(after_id=0)
        first = await take(stream, 3)
        await emit(n, 3, start=3)
        second = await take(stream, 3, timeout=3)
        await stream.aclose()
    got = [int(e.data["message"]) for e in first + second]
    assert got == [0, 1, 2, 3, 4, 5]
    ids = [e.id for e in first + second]
    assert ids == sorted(set(ids))


async def test_resume_from_last_event_id_gets_exactly_what_was_missed(database_url: str) -> None:
    await migrate(database_url)
    async with node(database_url, poll_interval=60) as n:
        await emit(n, 5)
        stream = n.hub.subscribe(after_id=0)
        seen = await take(stream, 2)
        await stream.aclose()  # the client drops here
        await emit(n, 2, start=5)  # ... and misses these
        resumed = n.hub.subscribe(after_id=seen[-1].id)
        rest = await take(resumed, 5)
        await resumed.aclose()
    assert [int(e.data["message"]) for e in seen + rest] == list(range(7))


async def test_filter_keeps_order_and_skips_others(database_url: str) -> None:
    await migrate(database_url)
    async with node(database_url, poll_interval=60) as n:
        async with n.sessions() as session, session.begin():
            for message, dep in (("a", "x"), ("b", "y"), ("c", "x")):
                await append_event(
                    session, EventType.ERROR, deployment_id=dep, data={"message": message}
                )
        stream = n.hub.subscribe(0, accept=lambda e: e.deployment_id == "x")
        got = await take(stream, 2)
        await stream.aclose()
    assert [e.data["message"] for e in got] == ["a", "c"]


async def test_slow_subscriber_is_dropped_not_silently_skipped(database_url: str) -> None:
    await migrate(database_url)
    async with node(database_url, poll_interval=60) as n:
        n.hub.QUEUE_SIZE = 3  # type: ignore[misc]
        stream = n.hub.subscribe(after_id=0)
        waiting = asyncio.create_task(anext(stream))
        await asyncio.sleep(0.05)  # subscribed, caught up, waiting live
        await emit(n, 1)
        first = await asyncio.wait_for(waiting, 3)
        await emit(n, 10, start=1)  # overflows the queue of 3 while nobody reads
        await asyncio.sleep(0.3)
        with pytest.raises(SubscriberTooSlowError):
            await asyncio.wait_for(anext(stream), 3)
    assert first.data["message"] == "0"


@pytest.mark.postgres
async def test_event_from_one_process_wakes_streams_of_another(postgres_url: str) -> None:
    """PostgreSQL LISTEN/NOTIFY: with polling effectively off, B's subscriber hears A's events."""
    database_url = postgres_url
    await migrate(database_url)
    async with (
        node(database_url, poll_interval=60) as a,
        node(database_url, poll_interval=60) as b,
    ):
        stream = b.hub.subscribe(after_id=0)
        waiting = asyncio.create_task(take(stream, 3, timeout=3))
        await asyncio.sleep(0.05)
        await emit(a, 3)
        got = await waiting
        await stream.aclose()
    assert [int(e.data["message"]) for e in got] == [0, 1, 2]
