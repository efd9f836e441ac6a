"""Reading a Server-Sent Events response in tests: events one by one, with their ids."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass
class Event:
    id: str | None
    data: dict[str, str] | None
    comment: bool = False


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    """Parse an SSE stream into events (comments become `Event(comment=True)`)."""
    event_id, data = None, None
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield Event(None, None, comment=True)
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and data is not None:
            yield Event(event_id, data)
            event_id, data = None, None


class Reader:
    """Reads one SSE response across several `take()` calls."""

    def __init__(self, response: httpx.Response) -> None:
        self._events = events(response)

    async def take(self, n: int, timeout: float = 5.0) -> list[Event]:
        got: list[Event] = []
        async with asyncio.timeout(timeout):
            while len(got) < n:
                event = await anext(self._events)
                if not event.comment:
                    got.append(event)
        return got

    async def rest(self) -> list[Event]:
        return [e async for e in self._events if not e.comment]


async def take(response: httpx.Response, n: int) -> list[Event]:
    return await Reader(response).take(n)
