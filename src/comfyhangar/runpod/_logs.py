"""Following a pod's log stream (`GET /v2/pods/{id}/logs`, SSE) across dropped connections.

- Every complete event moves the cursor (its SSE `id`); a reconnect sends it as
  `Last-Event-ID`, which RunPod honours before `since` and `tail`.
- Events whose id was already yielded are skipped, so a server that resumes inclusively (or
  replays) never makes a line appear twice.
- A 404 on the first connection raises `NotFoundError`; a 404 on a reconnect means the pod is
  gone and ends the iteration normally.
- A drop (reset, protocol error, idle timeout, 5xx, 429, or the server closing the stream)
  reconnects with backoff; `max_attempts` consecutive connections without a new event raise
  the last error.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx

from comfyhangar.core.sse import ServerSentEvent, SSEDecoder
from comfyhangar.runpod._transport import Transport, clean_params, logger
from comfyhangar.runpod.errors import (
    NotFoundError,
    RunPodError,
    RunPodUnavailableError,
    error_from_transport,
)
from comfyhangar.runpod.models import LogEvent
from comfyhangar.runpod.retry import RetryPolicy, is_retryable

_RECENT_IDS = 4096


class LogStreamer:
    """Produces `LogEvent`s for one client; see the module docstring for the rules."""

    def __init__(self, transport: Transport, policy: RetryPolicy, *, idle_timeout: float) -> None:
        self._t = transport
        self._policy = policy
        self._timeout = httpx.Timeout(10.0, read=idle_timeout)

    async def stream(
        self,
        path: str,
        *,
        last_event_id: str | None,
        tail: int | None,
        source: str | None,
        since: str | None,
    ) -> AsyncIterator[LogEvent]:
        """Yield log events until the pod is gone (see module docstring)."""
        cursor = last_event_id
        recent: deque[str] = deque(maxlen=_RECENT_IDS)
        recent_set: set[str] = set()
        if cursor:
            recent.append(cursor)
            recent_set.add(cursor)
        connections = 0
        stalled = 0
        while True:
            connections += 1
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            params: dict[str, Any] = {"source": source}
            if cursor:
                headers["Last-Event-ID"] = cursor
            else:
                params["tail"] = tail
                params["since"] = since
            progressed = False
            error: RunPodError | None = None
            try:
                async with self._t.http.stream(
                    "GET", path, params=clean_params(params), headers=headers, timeout=self._timeout
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        error = self._t.error_for(response, path)
                        if isinstance(error, NotFoundError):
                            if connections == 1:
                                raise error
                            return
                        if not is_retryable(error):
                            raise error
                    else:
                        decoder = SSEDecoder()
                        async for line in response.aiter_lines():
                            sse = decoder.feed(line)
                            if sse is None:
                                continue
                            event = _log_event(sse)
                            if sse.own_id and event.id in recent_set:
                                continue
                            if sse.own_id and event.id:
                                if len(recent) == recent.maxlen:
                                    recent_set.discard(recent[0])
                                recent.append(event.id)
                                recent_set.add(event.id)
                                cursor = event.id
                            progressed = True
                            stalled = 0
                            yield event
            except httpx.TransportError as exc:
                error = error_from_transport(exc, method="GET", path=self._t.shown(path))
            stalled = 0 if progressed else stalled + 1
            if stalled >= self._policy.max_attempts:
                raise error or RunPodUnavailableError(
                    "the log stream keeps closing without new lines",
                    method="GET",
                    path=self._t.shown(path),
                )
            delay = self._policy.delay_for(error, stalled) if error else 0.0
            if not progressed and error is None:
                delay = self._policy.backoff(stalled)
            logger.info("runpod log stream %s dropped; reconnecting in %.2fs", path, delay)
            await self._policy.sleep(delay)


def _log_event(sse: ServerSentEvent) -> LogEvent:
    """A `LogEvent` from an SSE event; a non-JSON payload becomes the line itself."""
    payload: Any
    try:
        payload = json.loads(sse.data)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = {"line": sse.data}
    line = payload.get("line")
    return LogEvent.model_validate(
        {
            "id": sse.id or "",
            "ts": payload.get("ts"),
            "source": payload.get("source") or "container",
            "line": "" if line is None else str(line),
        }
    )
