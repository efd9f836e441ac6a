"""`/object_info` cached per server and node set.

The full answer is large (about 500 classes, megabytes) and changes only when the server's
custom nodes or model files change. Entries are keyed by the server's base URL and a caller's
name for its node set (for a deployment: a digest of the custom nodes it installed), so a pod
that is rebuilt with other nodes gets a fresh entry; `refresh=True` (after models were added)
replaces one. Share one cache between clients to share the entries.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

ObjectInfo = dict[str, Any]
Key = tuple[str, str | None]


class ObjectInfoCache:
    """At most `max_entries` answers, least recently used dropped first; one fetch per key."""

    def __init__(self, max_entries: int = 32) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, ObjectInfo] = OrderedDict()
        self._locks: dict[Key, asyncio.Lock] = {}

    async def get(
        self, key: Key, fetch: Callable[[], Awaitable[ObjectInfo]], *, refresh: bool = False
    ) -> ObjectInfo:
        """The entry for `key`, fetched (once, however many callers wait) when missing."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not refresh and key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            info = await fetch()
            self._entries[key] = info
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                dropped, _ = self._entries.popitem(last=False)
                self._locks.pop(dropped, None)
            return info

    def forget(self, base_url: str) -> None:
        """Drop every entry of one server (it was rebuilt, or is gone)."""
        for key in [k for k in self._entries if k[0] == base_url]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
