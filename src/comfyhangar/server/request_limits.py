"""Bounds on one request: the size of its body, and how long it waits for its turn to write.

A body announced (`Content-Length`) as larger than the limit is refused at once, unread; one
sent in chunks is counted as it arrives and refused as soon as it passes the limit, so no
request makes the server hold more than `max_bytes` of it. Either way the answer is a 413
problem+json `payload_too_large` (FastAPI's own limit answers plain text when the route does
not read the body).

A request's write transactions wait at most `REQUEST_WRITE_WAIT_S` for the database's write gate
(db/engine.py), then the request is a 503 `database_busy` with Retry-After, having changed
nothing; background work (the reconciler, pod actions, the meter) waits as long as it takes.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comfyhangar.server.db.engine import bounded_write_wait
from comfyhangar.server.errors import problem

REQUEST_WRITE_WAIT_S = 30.0


def too_large(max_bytes: int) -> str:
    return f"the request body is larger than the limit of {max_bytes:,} bytes; nothing was done"


class BodySizeLimit:
    """ASGI middleware: HTTP request bodies larger than `max_bytes` get a 413.

    `larger` gives routes that take files (by path prefix) a limit of their own."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = dict(larger or {})

    def _limit(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            response = problem(413, "payload_too_large", too_large(max_bytes))
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Raised where the app reads the body; the error handlers answer it.
                    raise HTTPException(413, too_large(max_bytes))
            return message

        await self.app(scope, limited, send)


class RequestWriteWait:
    """ASGI middleware: each HTTP request's writes queue at most `seconds` (then a 503)."""

    def __init__(self, app: ASGIApp, seconds: float = REQUEST_WRITE_WAIT_S) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with bounded_write_wait(self.seconds):
            await self.app(scope, receive, send)
