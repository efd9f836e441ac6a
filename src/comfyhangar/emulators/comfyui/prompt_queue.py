"""The queue and the history, as ComfyUI's `PromptQueue`: in memory, lost on restart.

An item is `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. Pending items are a
min-heap on `number` (`/queue` shows them in heap order, not sorted); the running one is a copy.
The history keeps the newest 10 000 entries in insertion order; a prompt id queued twice gets
one entry (where the first run put it), holding the later run.
"""

from __future__ import annotations

import asyncio
import copy
import heapq
import itertools
from collections.abc import Callable
from typing import Any

MAXIMUM_HISTORY_SIZE = 10000
#: Keys that paid API nodes read from `extra_data`; ComfyUI strips them before the history.
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")

QueueItem = list[Any]


class PromptQueue:
    """Pending heap, running items, history and the worker's flags. `changed` runs on each change."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        self._heap: list[tuple[float, str, int, QueueItem]] = []
        self._sequence = itertools.count()
        self._running: dict[int, QueueItem] = {}
        self._task_counter = 0
        self.history: dict[str, dict[str, Any]] = {}
        self.flags: dict[str, Any] = {}
        self._wake = asyncio.Event()

    def put(self, item: QueueItem) -> None:
        heapq.heappush(self._heap, (item[0], item[1], next(self._sequence), item))
        self._changed()
        self._wake.set()

    async def get(self) -> tuple[QueueItem, int] | None:
        """The next item and its task id, once there is one; None when woken by a flag."""
        while not self._heap:
            self._wake.clear()
            await self._wake.wait()
            if not self._heap and self.flags:
                return None
        *_, item = heapq.heappop(self._heap)
        index = self._task_counter
        self._running[index] = copy.deepcopy(item)
        self._task_counter += 1
        self._changed()
        return item, index

    def task_done(self, index: int, result: dict[str, Any], status: dict[str, Any]) -> None:
        item = self._running.pop(index)
        if len(self.history) > MAXIMUM_HISTORY_SIZE:
            self.history.pop(next(iter(self.history)))
        for key in SENSITIVE_EXTRA_DATA_KEYS:
            item[3].pop(key, None)
        self.history[item[1]] = {"prompt": item, "outputs": {}, "status": status, **result}
        self._changed()

    def running(self) -> list[QueueItem]:
        return list(self._running.values())

    def pending(self) -> list[QueueItem]:
        return [entry[3] for entry in self._heap]

    def remaining(self) -> int:
        return len(self._heap) + len(self._running)

    def is_running(self, prompt_id: str) -> bool:
        return any(item[1] == prompt_id for item in self._running.values())

    def wipe(self) -> None:
        self._heap = []
        self._changed()

    def delete(self, prompt_id: str) -> bool:
        """Remove the first pending item with this id (never the running one)."""
        for position, entry in enumerate(self._heap):
            if entry[3][1] == prompt_id:
                if len(self._heap) == 1:
                    self.wipe()
                else:
                    self._heap.pop(position)
                    heapq.heapify(self._heap)
                self._changed()
                return True
        return False

    def set_flag(self, name: str, value: Any) -> None:
        self.flags[name] = value
        self._wake.set()

    def take_flags(self) -> dict[str, Any]:
        flags, self.flags = self.flags, {}
        return flags

    def history_of(self, prompt_id: str) -> dict[str, Any]:
        if prompt_id in self.history:
            return {prompt_id: copy.deepcopy(self.history[prompt_id])}
        return {}

    def history_page(self, max_items: int | None, offset: int) -> dict[str, Any]:
        """`GET /history`: from `offset` (default: the newest `max_items`), in order."""
        if offset < 0 and max_items is not None:
            offset = len(self.history) - max_items
        out: dict[str, Any] = {}
        for i, (key, entry) in enumerate(self.history.items()):
            if i >= offset:
                out[key] = entry
                if max_items is not None and len(out) >= max_items:
                    break
        return out
