"""The CLI's event stream: resumes with Last-Event-ID after a drop, and never repeats an event."""

from __future__ import annotations

import asyncio
from typing import Any

from comfyhangar.cli.client import HangarClient, StreamOpened
from comfyhangar.core.sse import ServerSentEvent
from tests.support.servers import running_server


class DroppingEvents:
    """An /events endpoint that breaks the first connection and ends the second one."""

    def __init__(self) -> None:
        self.last_event_ids: list[str | None] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        last = headers.get(b"last-event-id")
        self.last_event_ids.append(last.decode() if last else None)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        connection = len(self.last_event_ids)
        ids = {1: [1, 2], 2: [2, 3], 3: [4]}.get(connection, [])
        for i in ids:
            body = f': keepalive\n\nid: {i}\nevent: tick\ndata: {{"n": {i}}}\n\n'
            await send({"type": "http.response.body", "body": body.encode(), "more_body": True})
        if connection == 2:
            # No `id:` line: by the WHATWG rule it carries the last id (3) and is no repeat.
            body = b'event: note\ndata: {"n": 0}\n\n'
            await send({"type": "http.response.body", "body": body, "more_body": True})
        if connection == 1:
            raise RuntimeError("connection dropped")  # uvicorn cuts the response short
        if connection == 3:
            await asyncio.sleep(30)  # stays open; the client stops reading
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def test_stream_resumes_from_the_last_event_id_without_repeats() -> None:
    app = DroppingEvents()
    reasons: list[str] = []

    def read(base: str) -> list[ServerSentEvent | StreamOpened]:
        seen: list[ServerSentEvent | StreamOpened] = []
        with HangarClient(base, sleep=lambda _s: None) as client:
            stream = client.stream("/events", on_reconnect=reasons.append)
            for item in stream:
                seen.append(item)
                if isinstance(item, ServerSentEvent) and item.id == "4":
                    break
            stream.close()
        return seen

    async with running_server(app, lifespan="off") as base:
        seen = await asyncio.wait_for(asyncio.to_thread(read, base), 20)
    events = [e for e in seen if isinstance(e, ServerSentEvent)]
    assert [e.id for e in events] == ["1", "2", "3", "3", "4"]
    assert [e.json()["n"] for e in events] == [1, 2, 3, 0, 4]
    assert [e.own_id for e in events] == [True, True, True, False, True]
    assert app.last_event_ids == [None, "2", "3"]
    assert [o.resumed for o in seen if isinstance(o, StreamOpened)] == [False, True, True]
    assert reasons[0].startswith("connection lost")
    assert reasons[1] == "the server closed the stream"
