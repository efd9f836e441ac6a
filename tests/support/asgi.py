"""ASGI plumbing shared by the test middlewares."""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read a request's whole body; return it and a `receive` that hands it over again.

    Middlewares that inspect a request before the app sees it (or when the app answers
    without reading it, as for a 403) use this, then pass the returned `receive` to the app.
    """
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body.extend(message.get("body", b""))
        more = message.get("more_body", False)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}
        return await receive()

    return bytes(body), replay
