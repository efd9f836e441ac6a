"""One log line per HTTP request; for an event or log stream, one when it opens and one when it
closes (never one per keepalive).

    GET /api/v1/deployments?state=ready 200 3.1 ms
    GET /api/v1/events stream opened (200)
    GET /api/v1/events stream closed after 724.0 s

Query values that may carry a secret (`?token=`, `?api_key=`, ...) are logged as `***`. Paths
carry ids only, never secrets; request and response bodies are never logged. A health check that
passes is logged at DEBUG: container and load-balancer probes would fill the log otherwise.
Each record also carries these as fields (`extra={"request": ...}`: method, redacted path,
status, duration, stream), which the JSON log format writes out (`log_format.py`).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl, quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comfyhangar.server.log_format import REQUEST

log = logging.getLogger("comfyhangar.requests")

REDACTED = "***"
HEALTH_PATH = "/api/v1/health"
# A query parameter whose name holds one of these words is a secret.
SECRET_WORDS = ("token", "key", "secret", "password", "passwd", "signature", "sig", "auth")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter named `name` may carry a secret."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redacted_target(path: str, query: str) -> str:
    """`path?query` with the value of every secret parameter replaced by `***`."""
    if not query:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    shown = "&".join(
        f"{quote(name, safe='')}={REDACTED if is_secret_param(name) else quote(value, safe='')}"
        for name, value in pairs
    )
    return f"{path}?{shown}" if shown else path


class RequestLog:
    """ASGI middleware that logs each request (method, path, redacted query, status, time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        query = scope.get("query_string", b"").decode("latin-1")
        target = redacted_target(scope["path"], query)
        line = f"{scope['method']} {target}"
        fields: dict[str, object] = {"method": scope["method"], "path": target}
        status: int | None = None
        stream = False

        async def watch(message: Message) -> None:
            nonlocal status, stream
            if message["type"] == "http.response.start":
                status = int(message["status"])
                stream = _content_type(message).startswith("text/event-stream")
                if stream:
                    opened = {**fields, "status": status, "stream": "opened"}
                    log.info("%s stream opened (%d)", line, status, extra={REQUEST: opened})
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except BaseException:
            if status is None:
                status = 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            done = {**fields, "status": status, "duration_ms": round(elapsed * 1000, 1)}
            if stream:
                closed = {**done, "stream": "closed"}
                log.info("%s stream closed after %.1f s", line, elapsed, extra={REQUEST: closed})
            else:
                probe = scope["path"] == HEALTH_PATH and status is not None and status < 400
                log.log(
                    logging.DEBUG if probe else logging.INFO,
                    "%s %s %.1f ms",
                    line,
                    status if status is not None else "-",
                    elapsed * 1000,
                    extra={REQUEST: done},
                )


def _content_type(message: Message) -> str:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).decode("latin-1").lower()
    return ""
