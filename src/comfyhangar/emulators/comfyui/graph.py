"""Execution order and the output cache, as ComfyUI 0.3.64's `ExecutionList` and classic cache.

Order: the output nodes are added in turn, each with its uncached ancestors (a depth-first walk
with a stack); of the nodes whose inputs are ready, an output node goes first, then one that
feeds an output, then one two steps from an output, else the first in insertion order. This is
why prompt 02 of the shared fixtures runs 1,2,3,4,5,8,9,6,7.

Cache: a node's key is its class, its `IS_CHANGED` value, its constant inputs and (by position)
the keys of its ancestors, so an identical sub-graph is served from cache under any node ids.
Before each prompt, entries that the new prompt does not use are dropped: the cache holds only
what the last prompt used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from comfyhangar.emulators.comfyui.nodes import NodeType


def is_link(value: Any) -> bool:
    """`[node_id: str, slot: int|float]`, as `graph_utils.is_link`."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], (int, float))
        and not isinstance(value[1], bool)
    )


def _hashable(value: Any) -> Any:
    """`caching.to_hashable`: lists and dicts become frozensets; other objects never match."""
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    if isinstance(value, Mapping):
        return frozenset((_hashable(k), _hashable(v)) for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return frozenset(enumerate(_hashable(v) for v in value))
    return math.nan  # unhashable: never equal to anything, as ComfyUI's `Unhashable`


class OutputCache:
    """Node outputs and UI outputs keyed by input signature (ComfyUI's classic cache)."""

    def __init__(self) -> None:
        self._outputs: dict[Any, tuple[Any, ...]] = {}
        self._ui: dict[Any, dict[str, Any]] = {}
        self._keys: dict[str, Any] = {}

    def reset(self) -> None:
        """Forget everything (`POST /free {"free_memory": true}`)."""
        self._outputs.clear()
        self._ui.clear()

    def set_prompt(
        self,
        prompt: Mapping[str, Any],
        node_type: Callable[[str], NodeType | None],
        fingerprint: Callable[[str, NodeType], object],
    ) -> None:
        """Key every node of `prompt` and drop the entries no node of it uses."""
        self._keys = {}
        for node_id in prompt:
            self._keys[node_id] = self._signature(prompt, node_id, node_type, fingerprint)
        used = set(self._keys.values())
        for store in (self._outputs, self._ui):
            for key in [k for k in store if k not in used]:
                del store[key]

    def _signature(
        self,
        prompt: Mapping[str, Any],
        node_id: str,
        node_type: Callable[[str], NodeType | None],
        fingerprint: Callable[[str, NodeType], object],
    ) -> Any:
        ancestors: list[str] = []
        order: dict[str, int] = {}

        def walk(current: str) -> None:
            inputs = prompt.get(current, {}).get("inputs", {})
            for key in sorted(inputs):
                if is_link(inputs[key]):
                    ancestor = inputs[key][0]
                    if ancestor not in order:
                        ancestors.append(ancestor)
                        order[ancestor] = len(ancestors) - 1
                        walk(ancestor)

        walk(node_id)

        def immediate(current: str) -> list[Any]:
            if current not in prompt:
                return [math.nan]  # cannot be cached
            node = prompt[current]
            kind = node_type(node["class_type"])
            if kind is None:
                return [math.nan]
            signature: list[Any] = [kind.name, fingerprint(current, kind)]
            if kind.takes_unique_id:
                signature.append(current)
            inputs = node.get("inputs", {})
            for key in sorted(inputs):
                value = inputs[key]
                if is_link(value):
                    signature.append((key, ("ANCESTOR", order[value[0]], value[1])))
                else:
                    signature.append((key, value))
            return signature

        return _hashable([immediate(node_id)] + [immediate(a) for a in ancestors])

    def node_ids(self) -> list[str]:
        """The node ids of the current prompt."""
        return list(self._keys)

    def outputs(self, node_id: str) -> tuple[Any, ...] | None:
        return self._outputs.get(self._keys.get(node_id))

    def ui(self, node_id: str) -> dict[str, Any] | None:
        return self._ui.get(self._keys.get(node_id))

    def store(self, node_id: str, outputs: tuple[Any, ...], ui: dict[str, Any] | None) -> None:
        key = self._keys[node_id]
        self._outputs[key] = outputs
        if ui is not None:
            self._ui[key] = ui


class CycleError(Exception):
    """No node is ready and some remain: the prompt has a dependency cycle."""

    def __init__(self, nodes: list[str]) -> None:
        super().__init__("Dependency cycle detected")
        self.nodes = nodes


class ExecutionList:
    """Which node runs next; a topological dissolve of the graph, as ComfyUI's."""

    def __init__(
        self,
        prompt: Mapping[str, Any],
        node_type: Callable[[str], NodeType | None],
        is_cached: Callable[[str], bool],
    ) -> None:
        self.prompt = prompt
        self.node_type = node_type
        self.is_cached = is_cached
        self.pending: dict[str, bool] = {}
        self.block_count: dict[str, int] = {}
        self.blocking: dict[str, dict[str, dict[Any, bool]]] = {}

    def add_node(self, node_id: str) -> None:
        """Add `node_id` and its uncached, non-lazy ancestors."""
        stack = [node_id]
        links: list[tuple[str, Any, str]] = []
        while stack:
            current = stack.pop()
            if current in self.pending:
                continue
            self.pending[current] = True
            self.block_count[current] = 0
            self.blocking[current] = {}
            kind = self.node_type(self.prompt[current]["class_type"])
            for name, value in self.prompt[current].get("inputs", {}).items():
                if not is_link(value):
                    continue
                source = value[0]
                lazy = kind is not None and bool(kind.input_spec(name)[2].get("lazy", False))
                if not lazy and not self.is_cached(source):
                    stack.append(source)
                    links.append((source, value[1], current))
        for source, slot, target in links:
            self._add_link(source, slot, target)

    def _add_link(self, source: str, slot: Any, target: str) -> None:
        if self.is_cached(source):
            return
        self.add_node(source)
        if target not in self.blocking[source]:
            self.blocking[source][target] = {}
            self.block_count[target] += 1
        self.blocking[source][target][slot] = True

    def empty(self) -> bool:
        return not self.pending

    def next_node(self) -> str:
        """The node to run now (raises CycleError when none can run)."""
        ready = [n for n in self.pending if self.block_count[n] == 0]
        if not ready:
            raise CycleError(self._in_cycle())
        return self._pick(ready)

    def _is_output(self, node_id: str) -> bool:
        kind = self.node_type(self.prompt[node_id]["class_type"])
        return kind is not None and kind.output_node

    def _pick(self, ready: list[str]) -> str:
        for node_id in ready:
            if self._is_output(node_id):
                return node_id
        for node_id in ready:
            if any(self._is_output(b) for b in self.blocking[node_id]):
                return node_id
        for node_id in ready:
            for blocked in self.blocking[node_id]:
                if any(self._is_output(b) for b in self.blocking[blocked]):
                    return node_id
        return ready[0]

    def done(self, node_id: str) -> None:
        """`node_id` ran: unblock what waited for it."""
        del self.pending[node_id]
        for blocked in self.blocking.pop(node_id):
            self.block_count[blocked] -= 1

    def _in_cycle(self) -> list[str]:
        blocked_by: dict[str, set[str]] = {n: set() for n in self.pending}
        for source, targets in self.blocking.items():
            for target in targets:
                if target in blocked_by:
                    blocked_by[target].add(source)
        while True:
            free = [n for n, sources in blocked_by.items() if not sources]
            if not free:
                return list(blocked_by)
            for node_id in free:
                del blocked_by[node_id]
                for sources in blocked_by.values():
                    sources.discard(node_id)
