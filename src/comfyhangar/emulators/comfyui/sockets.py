"""`/ws`: the sockets by client id, the message queue and its one publisher, as ComfyUI's.

Everything a prompt sends goes through one queue and one task, so every socket sees messages in
the order they were made. Its quirks are kept: a connection that reuses a connected client id
takes the id over, and when the older connection then closes, the id is unregistered and the
newer one silently receives nothing more; the first message is the only one with `sid`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
import uuid
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

logger = logging.getLogger("comfyhangar.emulators.comfyui")

_SEND_ERRORS = (RuntimeError, OSError, WebSocketDisconnect)


class SocketHub:
    """Connected sockets and the ordered delivery of messages to them."""

    def __init__(self, queue_info: Callable[[], dict[str, Any]], features: dict[str, Any]) -> None:
        self.queue_info = queue_info
        self.features = features
        self.sockets: dict[str, WebSocket] = {}
        self.metadata: dict[str, dict[str, Any]] = {}
        self.client_id: str | None = None  # the running prompt's client
        self.last_node_id: str | None = None
        self._messages: asyncio.Queue[tuple[str | int, Any, str | None]] = asyncio.Queue()
        self._open: set[WebSocket] = set()

    def send_sync(self, event: str | int, data: Any, sid: str | None) -> None:
        """Queue a message (JSON for a str event, bytes after a 4-byte type for an int one)."""
        self._messages.put_nowait((event, data, sid))

    def supports_preview_metadata(self, sid: str | None) -> bool:
        flags = self.metadata.get(sid or "", {}).get("feature_flags", {})
        return bool(flags.get("supports_preview_metadata", False))

    async def publish_forever(self) -> None:
        while True:
            event, data, sid = await self._messages.get()
            await self.send(event, data, sid)

    async def send(self, event: str | int, data: Any, sid: str | None) -> None:
        if isinstance(event, int):
            frame: str | bytes = struct.pack(">I", event) + bytes(data)
        else:
            frame = json.dumps({"type": event, "data": data})
        targets = list(self.sockets.values()) if sid is None else [self.sockets[sid]] if sid in self.sockets else []  # fmt: skip
        for ws in targets:
            try:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_text(frame)
            except _SEND_ERRORS as err:
                logger.debug("send error: %s", err)

    async def serve(self, ws: WebSocket) -> None:
        """One WebSocket connection, from accept to close."""
        await ws.accept()
        self._open.add(ws)
        sid = ws.query_params.get("clientId", "")
        if sid:
            self.sockets.pop(sid, None)
        else:
            sid = uuid.uuid4().hex
        self.sockets[sid] = ws
        self.metadata[sid] = {"feature_flags": {}}
        try:
            await self.send("status", {"status": self.queue_info(), "sid": sid}, sid)
            if self.client_id == sid and self.last_node_id is not None:
                await self.send("executing", {"node": self.last_node_id}, sid)
            first = True
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    continue
                try:
                    data = json.loads(text)
                except json.JSONDecodeError:
                    logger.debug("invalid JSON from client %s", sid)
                    continue
                if first and isinstance(data, dict) and data.get("type") == "feature_flags":
                    flags = data.get("data", {})
                    self.metadata[sid]["feature_flags"] = flags if isinstance(flags, dict) else {}
                    await self.send("feature_flags", dict(self.features), sid)
                first = False
        except _SEND_ERRORS:
            pass
        finally:
            self._open.discard(ws)
            self.sockets.pop(sid, None)  # sic: even when a newer socket holds the id now
            self.metadata.pop(sid, None)

    async def drop_all(self, code: int = 1011) -> int:
        """Close every open connection (as a proxy or network failure would); how many."""
        dropped = list(self._open)
        for ws in dropped:
            with contextlib.suppress(*_SEND_ERRORS):
                await ws.close(code=code)
        return len(dropped)
