"""The client's WebSocket: one `clientId`, reconnected when it drops, events routed by prompt.

ComfyUI never replays what a socket missed, so following a prompt never trusts the socket
alone: it reads `/history/{id}` and `/queue` (never the whole history) when it starts, after
every reconnect, and whenever nothing has arrived for `reconcile_after_s`. That also catches
ComfyUI's quirk of silently unregistering a socket whose client id an older connection held:
statuses go to every socket on each queue change, so a queue that changed without one reaching
us means ours is deaf, and it is reopened.

A socket is opened, and the prompt subscribed to, before it is queued (`async with
client.events() as stream:`, `sub = stream.subscribe(pid)`, `client.submit(...,
client_id=stream.client_id)`, `async for item in sub:`) so that no early event is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import websockets
from websockets.asyncio.client import ClientConnection

from comfyhangar.comfyui.errors import (
    ComfyUIHTTPError,
    ComfyUIUnreachable,
    PromptLost,
)
from comfyhangar.comfyui.events import (
    TERMINAL,
    Event,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionStart,
    ExecutionSuccess,
    FeatureFlags,
    Preview,
    ProgressText,
    Status,
    parse_frame,
    prompt_of,
)
from comfyhangar.comfyui.wire import Outcome, PromptResult

if TYPE_CHECKING:
    from comfyhangar.comfyui.client import ComfyUIClient

logger = logging.getLogger("comfyhangar.comfyui")

_HANDSHAKE = json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}})


@dataclass(frozen=True)
class PromptFinished:
    """The last item a subscription yields: how the prompt ended, from its history entry."""

    result: PromptResult


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_DROPPED = _Signal("dropped")
_RECONNECTED = _Signal("reconnected")
Item = Event | _Signal


class EventStream:
    """One WebSocket of a `ComfyUIClient`, kept open (and reopened) until the block ends.

    - `reconcile_after_s`: silence after which a subscription checks the prompt over HTTP.
    - `finish_wait_s`: after the terminal event, how long to wait for the closing
      `executing` before reading the history anyway.
    - `give_up_after_s`: how long a subscription tolerates a server it cannot reach.
    - `reconnect_delays`: seconds between reconnect attempts (the last repeats).
    """

    def __init__(
        self,
        client: ComfyUIClient,
        *,
        reconcile_after_s: float = 10.0,
        finish_wait_s: float = 2.0,
        give_up_after_s: float = 600.0,
        reconnect_delays: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
        open_timeout_s: float = 10.0,
    ) -> None:
        self.client = client
        self.client_id = client.client_id
        self.reconcile_after_s = reconcile_after_s
        self.finish_wait_s = finish_wait_s
        self.give_up_after_s = give_up_after_s
        self.reconnect_delays = reconnect_delays
        self.open_timeout_s = open_timeout_s
        self.reconnects = 0
        self.server_features: dict[str, Any] = {}
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._inboxes: dict[str, list[asyncio.Queue[Item]]] = {}
        self._current_prompt: str | None = None
        self._current_node: str | None = None
        self._last_remaining: int | None = None
        self._last_frame = time.monotonic()

    async def __aenter__(self) -> EventStream:
        self._ws = await self._open()
        self._reader = asyncio.create_task(self._read_forever(), name=f"comfyui-ws:{self.client_id[:8]}")  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    # --- the connection ------------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        try:
            ws = await websockets.connect(
                self.client.websocket_url,
                additional_headers=self.client.websocket_headers,
                user_agent_header=None,
                max_size=None,
                open_timeout=self.open_timeout_s,
                ping_interval=20,
                ping_timeout=20,
                proxy=None,
            )
        except websockets.InvalidStatus as error:
            status = error.response.status_code
            if status in (401, 403):
                raise ComfyUIHTTPError(f"WebSocket refused with {status}", status=status) from None
            raise ComfyUIUnreachable(f"WebSocket refused with {status}", status=status, outcome_unknown=False) from None  # fmt: skip
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as error:
            raise ComfyUIUnreachable(f"WebSocket: no connection ({type(error).__name__})", outcome_unknown=False) from None  # fmt: skip
        await ws.send(_HANDSHAKE)  # previews then carry their prompt and node (type 4)
        self._last_frame = time.monotonic()
        return ws

    async def _read_forever(self) -> None:
        while not self._closing:
            ws = self._ws
            if ws is not None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for frame in ws:
                        self._last_frame = time.monotonic()
                        self._dispatch(parse_frame(frame))
            if self._closing:
                return
            self._ws = None
            self._send_all(_DROPPED)
            self._ws = await self._reopen()
            self.reconnects += 1
            self._send_all(_RECONNECTED)

    async def _reopen(self) -> ClientConnection:
        """Connect again with the same client id, after a pause (the old socket must be gone
        on the server too, or its late close would unregister the new one)."""
        attempt = 0
        while True:
            delay = self.reconnect_delays[min(attempt, len(self.reconnect_delays) - 1)]
            await asyncio.sleep(delay)
            try:
                return await self._open()
            except (ComfyUIUnreachable, ComfyUIHTTPError) as error:
                logger.info("ComfyUI WebSocket reconnect failed: %s", error)
                attempt += 1

    async def reopen(self) -> None:
        """Close the socket on purpose; the reader opens a new one (after its pause)."""
        if self._ws is not None:
            await self._ws.close()

    # --- routing -------------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Status):
            self._last_remaining = event.queue_remaining
            self._send_all(event)
            return
        if isinstance(event, FeatureFlags):
            self.server_features = dict(event.flags)
            return
        if isinstance(event, ExecutionStart):
            self._current_prompt, self._current_node = event.prompt_id, None
        elif isinstance(event, Executing):
            if event.prompt_id is None:  # sent on reconnect, for the running prompt
                event = replace(event, prompt_id=self._current_prompt)
            elif event.node is not None:
                self._current_prompt = event.prompt_id
            self._current_node = event.node
        elif isinstance(event, Preview) and event.prompt_id is None:
            event = replace(event, prompt_id=self._current_prompt, node_id=self._current_node)
        elif isinstance(event, ProgressText):
            event = replace(event, prompt_id=self._current_prompt)
        prompt = prompt_of(event)
        for inbox in self._inboxes.get(prompt or "", []):
            inbox.put_nowait(event)

    def _send_all(self, item: Item) -> None:
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.put_nowait(item)

    # --- following a prompt ----------------------------------------------------------------------

    def subscribe(self, prompt_id: str) -> Subscription:
        """Start collecting the events of `prompt_id` now; iterate the subscription to follow it.

        Subscribe before submitting (so that no early event is missed), iterate after:
        `sub = stream.subscribe(pid)`, `await client.submit(..., client_id=stream.client_id)`,
        `async for item in sub: ...`. A prompt submitted earlier can be subscribed to any time.
        """
        return Subscription(self, prompt_id)

    def _register(self, prompt_id: str, inbox: asyncio.Queue[Item]) -> None:
        self._inboxes.setdefault(prompt_id, []).append(inbox)

    def _unregister(self, prompt_id: str, inbox: asyncio.Queue[Item]) -> None:
        inboxes = self._inboxes.get(prompt_id, [])
        if inbox in inboxes:
            inboxes.remove(inbox)
        if not inboxes:
            self._inboxes.pop(prompt_id, None)

    async def _follow(
        self, prompt_id: str, inbox: asyncio.Queue[Item]
    ) -> AsyncIterator[Event | PromptFinished]:
        seen = _Seen()
        unreachable_since: float | None = None
        wait = 0.0  # nothing buffered yet: ask the server at once (it may have finished)
        while True:
            try:
                item: Item = await asyncio.wait_for(inbox.get(), wait) if wait else inbox.get_nowait()  # fmt: skip
            except (TimeoutError, asyncio.QueueEmpty):
                item = _Signal("silence")
            wait = self.finish_wait_s if seen.terminal is not None else self.reconcile_after_s
            if isinstance(item, _Signal):
                if item is _DROPPED:
                    continue
                if seen.terminal is not None:
                    yield await self._finish(prompt_id, seen)
                    return
                try:
                    finished = await self._reconcile(prompt_id, silent=item is not _RECONNECTED)
                except ComfyUIUnreachable:
                    now = time.monotonic()
                    unreachable_since = unreachable_since or now
                    if now - unreachable_since > self.give_up_after_s:
                        raise
                    continue
                unreachable_since = None
                if finished is not None:
                    yield finished
                    return
                continue
            yield item
            seen.note(item)
            if isinstance(item, Executing) and item.node is None:
                yield await self._finish(prompt_id, seen)
                return

    async def _reconcile(self, prompt_id: str, *, silent: bool) -> PromptFinished | None:
        """Ask the server where the prompt is: finished (its result), waiting (None), or lost."""
        result = await self.client.history(prompt_id)
        if result is not None:
            return PromptFinished(result)
        queue = await self.client.queue()
        if queue.find(prompt_id) is None:
            result = await self.client.history(prompt_id)  # it may have finished meanwhile
            if result is not None:
                return PromptFinished(result)
            raise PromptLost(prompt_id)
        quiet = time.monotonic() - self._last_frame >= self.reconcile_after_s
        if silent and quiet and self._ws is not None and queue.remaining != self._last_remaining:
            logger.info("ComfyUI stopped sending to client %s; reconnecting", self.client_id[:8])
            await self.reopen()
        return None

    async def _finish(self, prompt_id: str, seen: _Seen) -> PromptFinished:
        """The prompt ended: its history entry (written just before the closing `executing`)."""
        delay = 0.05
        for _ in range(8):
            result = await self.client.history(prompt_id)
            if result is not None:
                return PromptFinished(result)
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)
        return PromptFinished(seen.result(prompt_id))  # the history entry was deleted


class Subscription:
    """The events of one prompt, collected from the moment of subscribing.

    Iterating yields them until the prompt ends, then a `PromptFinished`. Raises `PromptLost`
    if the server no longer knows the prompt, `ComfyUIUnreachable` if it stays out of reach
    for the stream's `give_up_after_s`. Iterate once.
    """

    def __init__(self, stream: EventStream, prompt_id: str) -> None:
        self.stream = stream
        self.prompt_id = prompt_id
        self._inbox: asyncio.Queue[Item] = asyncio.Queue()
        stream._register(prompt_id, self._inbox)

    async def __aiter__(self) -> AsyncIterator[Event | PromptFinished]:
        try:
            async for item in self.stream._follow(self.prompt_id, self._inbox):
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop collecting (done by itself when the iteration ends)."""
        self.stream._unregister(self.prompt_id, self._inbox)


class _Seen:
    """What a subscription saw of a prompt, for the rare end whose history entry is gone."""

    def __init__(self) -> None:
        self.terminal: Event | None = None
        self.outputs: dict[str, Any] = {}
        self.cached: tuple[str, ...] = ()

    def note(self, event: Event) -> None:
        if isinstance(event, TERMINAL):
            self.terminal = event
        elif isinstance(event, Executed) and event.output:
            self.outputs[event.node] = event.output
        elif isinstance(event, ExecutionCached):
            self.cached = event.nodes

    def result(self, prompt_id: str) -> PromptResult:
        terminal = self.terminal
        outcome: Outcome = "success" if isinstance(terminal, ExecutionSuccess) else "error"
        if isinstance(terminal, ExecutionInterrupted):
            outcome = "interrupted"
        return PromptResult(
            prompt_id,
            outcome,
            dict(self.outputs),
            error=terminal if isinstance(terminal, ExecutionError) else None,
            interrupted=terminal if isinstance(terminal, ExecutionInterrupted) else None,
            cached_nodes=self.cached,
            source="events",
        )
