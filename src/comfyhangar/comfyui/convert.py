"""UI workflow -> API prompt, as the ComfyUI frontend's `graphToPrompt` (1.27.10) does it.

`ui_to_api(workflow, object_info)` loads the graph the way the editor does (`editor_graph`: values by
position against the layout of each class, see `node_layout`), then flattens it like the
frontend's executable-node pass: subgraph instances are expanded into their inner nodes with ids
`"<instance>:<inner>"` (one more `:` part per nesting level), links are followed back through
Reroutes, subgraph boundaries and bypassed nodes (mode 4: re-linked to their first input of a
matching type), PrimitiveNode values are written into the widgets they feed, frontend-only nodes
(Note, MarkdownNote, PrimitiveNode, Reroute) and muted nodes (mode 2) are dropped, and inputs
that point at a dropped node vanish. The result is equal to what the real frontend sends for the
same graph and `/object_info` (tests/comfyui/test_convert.py proves it on every template).

What the frontend would turn into a prompt that the server refuses, or could not convert at all,
is a `ConversionError` naming the node: an unknown node type, a link whose origin or record is
missing, a cycle, a node that needs a browser when queued (webcam, 3D scene capture).

Pure: no I/O. Randomness (`{a|b}` dynamic prompts) and time (`%date:...%`) come from the caller.
"""

from __future__ import annotations

import random as _random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from comfyhangar.comfyui.editor_graph import (
    MAX_NODES,
    MODE_BYPASS,
    MODE_NEVER,
    SUBGRAPH_INPUT_ID,
    EditorGraph,
    EditorNode,
    Link,
    SlotInput,
    WidgetState,
    load_editor_graph,
    target_input,
)
from comfyhangar.comfyui.errors import ConversionError
from comfyhangar.comfyui.node_layout import SAVE_NODE_TYPES, NodeCatalog
from comfyhangar.comfyui.widget_values import (
    Draw,
    apply_text_replacements,
    js_string,
    resolve_dynamic_prompt,
)

ApiPrompt = dict[str, dict[str, Any]]

# Nodes whose value is made in the browser when queued (a camera frame, a 3D scene capture).
BROWSER_ONLY_TYPES = frozenset({"WebcamCapture", "Load3D", "Load3DAnimation"})
TEXT_REPLACE_PROPERTY = "Run widget replace on values"


def ui_to_api(
    workflow: Mapping[str, Any],
    object_info: Mapping[str, Any] | NodeCatalog,
    *,
    random: Draw | None = None,
    now: datetime | None = None,
) -> ApiPrompt:
    """Convert a UI-format workflow to the API prompt the frontend would queue.

    `random` draws the choices of `{a|b}` dynamic prompts (default: an unseeded generator, like
    the browser; pass `random.Random(seed).random` for a repeatable result). `now` is the time
    used by `%date:...%` in file name prefixes (default: the current local time).
    Raises `ConversionError` (with `reason`, `node_id`, `node_type`) for a graph that cannot be
    converted into a prompt the server would run.
    """
    catalog = object_info if isinstance(object_info, NodeCatalog) else NodeCatalog(object_info)
    draw = random if random is not None else _random.Random().random  # noqa: S311 (not security)
    when = now if now is not None else datetime.now().astimezone()
    loaded = load_editor_graph(workflow, catalog)
    try:
        return _Flattener(loaded, draw, when).prompt()
    except RecursionError:
        # Resolution recurses once per Reroute, bypassed node or subgraph boundary on a path.
        raise ConversionError(
            "too_large", "links run through too many Reroutes, bypassed nodes or subgraphs"
        ) from None


# ---------------------------------------------------------------------------------------------
# Flattening: the executable nodes of `graphToPrompt`.


@dataclass(slots=True)
class _Dto:
    id: str
    node: EditorNode
    path: tuple[str, ...]
    instance: _Dto | None
    """The DTO of the subgraph instance this node sits in (None at the root)."""


@dataclass(slots=True, frozen=True)
class _Resolved:
    origin_id: str = ""
    origin_slot: int = 0
    widget_value: Any = None
    is_widget: bool = False


class _Flattener:
    def __init__(self, root: EditorGraph, draw: Draw, now: datetime) -> None:
        self.root = root
        self.draw = draw
        self.now = now
        self.dtos: dict[str, _Dto] = {}

    def prompt(self) -> ApiPrompt:
        self._apply_primitives(self.root, ())
        for node in _execution_order(self.root):
            dto = _Dto(node.id, node, (), None)
            self.dtos[dto.id] = dto
            if node.subgraph is not None:
                self._expand(dto, node.subgraph)
        output: ApiPrompt = {}
        for dto in list(self.dtos.values()):
            node = dto.node
            if node.virtual or node.mode in (MODE_NEVER, MODE_BYPASS):
                continue
            self._check_convertible(dto)
            output[dto.id] = {
                "inputs": self._inputs(dto),
                "class_type": node.type,
                "_meta": {"title": node.title},
            }
        for entry in output.values():
            inputs = entry["inputs"]
            for name, value in list(inputs.items()):
                if isinstance(value, list) and len(value) == 2 and value[0] not in output:
                    del inputs[name]
        _refuse_cycles(output)
        return output

    def _expand(self, instance: _Dto, subgraph: EditorGraph) -> None:
        path = (*instance.path, instance.node.id)
        for inner in subgraph.nodes:
            dto = _Dto(":".join((*path, inner.id)), inner, path, instance)
            self.dtos[dto.id] = dto
            if len(self.dtos) > MAX_NODES:
                raise ConversionError(
                    "too_large", f"subgraph instances expand to more than {MAX_NODES} nodes"
                )
            if inner.subgraph is not None:
                self._expand(dto, inner.subgraph)

    def _apply_primitives(self, graph: EditorGraph, path: tuple[str, ...]) -> None:
        for node in graph.nodes:
            if node.type == "PrimitiveNode" and node.widgets:
                value = node.widgets[0].value
                if value and node.properties.get(TEXT_REPLACE_PROPERTY) and isinstance(value, str):
                    value = apply_text_replacements(value, _all_nodes(self.root), self.now)
                for link_id in node.outputs[0][1] if node.outputs else []:
                    found = self._primitive_target(":".join((*path, node.id)), graph, link_id)
                    if found is not None and (their := found[0].find_widget(found[1].widget)):
                        their.value = value
            if node.subgraph is not None:
                self._apply_primitives(node.subgraph, (*path, node.id))

    def _primitive_target(
        self, node_id: str, graph: EditorGraph, link_id: str
    ) -> tuple[EditorNode, SlotInput] | None:
        """The input a PrimitiveNode writes through one of its links, as the frontend finds it.

        The frontend looks the link up in the root graph's links even for a PrimitiveNode inside
        a subgraph, then the target by that link's node id and slot index in the subgraph: it
        writes to whatever that names (often nothing), and fails when the root has no such link.
        """
        if graph is self.root:
            link = graph.links.get(link_id)
            return target_input(graph, link) if link else None
        link = self.root.links.get(link_id)
        if link is None:
            raise ConversionError(
                "primitive_in_subgraph",
                f"node {node_id} (PrimitiveNode) inside subgraph {graph.name!r} cannot be queued "
                "by the ComfyUI frontend either: replace it with a subgraph input or a "
                "Primitive* node",
                node_id=node_id,
                node_type="PrimitiveNode",
            )
        target = graph.by_id.get(link.target_id)
        if target is None or not 0 <= link.target_slot < len(target.inputs):
            return None
        return target, target.inputs[link.target_slot]

    def _check_convertible(self, dto: _Dto) -> None:
        node = dto.node
        if node.layout is None:
            raise ConversionError(
                "unknown_node_type",
                f"node {dto.id} is of type {node.type!r}, which this ComfyUI does not have "
                "(a custom node that is not installed?)",
                node_id=dto.id,
                node_type=node.type,
            )
        if node.type in BROWSER_ONLY_TYPES:
            raise ConversionError(
                "needs_browser",
                f"node {dto.id} ({node.type}) captures its value in the browser when queued; "
                "queue it from the ComfyUI editor or replace it with a LoadImage",
                node_id=dto.id,
                node_type=node.type,
            )

    def _inputs(self, dto: _Dto) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for widget in dto.node.widgets:
            if not widget.spec.name or not widget.spec.in_prompt:
                continue
            inputs[widget.spec.name] = _wrap(self._serialize(dto, widget))
        for index, slot in enumerate(dto.node.inputs):
            resolved = self._resolve_input(dto, index, set())
            if resolved is None:
                continue
            if resolved.is_widget:
                inputs[slot.name] = _wrap(resolved.widget_value)
            else:
                inputs[slot.name] = [resolved.origin_id, resolved.origin_slot]
        return inputs

    def _serialize(self, dto: _Dto, widget: WidgetState) -> Any:
        node = dto.node
        value = widget.current
        if widget.spec.dynamic_prompts and isinstance(value, str):
            return resolve_dynamic_prompt(value, self.draw)
        if node.type in SAVE_NODE_TYPES and widget.spec.name == "filename_prefix":
            if not isinstance(value, str):
                raise ConversionError(
                    "invalid_widget_value",
                    f"node {dto.id} ({node.type}): filename_prefix must be text, not "
                    f"{js_string(value)!r}",
                    node_id=dto.id,
                    node_type=node.type,
                )
            return apply_text_replacements(value, _all_nodes(self.root), self.now)
        return value

    # -- link resolution (ExecutableNodeDTO.resolveInput / resolveOutput) ---------------------

    def _guard(self, dto: _Dto, kind: str, slot: int, visited: set[str]) -> None:
        graph_id = dto.node.graph.id
        unique = f"{graph_id}:{dto.node.id}[{kind}]{slot}"
        if unique in visited:
            raise ConversionError(
                "cycle",
                f"node {dto.id} ({dto.node.type}) is part of a loop of links",
                node_id=dto.id,
                node_type=dto.node.type,
            )
        visited.add(unique)

    def _resolve_input(
        self, dto: _Dto, slot: int, visited: set[str], kind: Any = None
    ) -> _Resolved | None:
        self._guard(dto, "I", slot, visited)
        node = dto.node
        if not 0 <= slot < len(node.inputs):
            raise _node_error("missing_slot", dto, f"has no input slot {slot}")
        slot_input = node.inputs[slot]
        if slot_input.link is None:
            return None
        link = node.graph.links.get(slot_input.link)
        if link is None:
            raise _node_error(
                "missing_link",
                dto,
                f"input {slot_input.name!r} names link {slot_input.link}, "
                "which the workflow does not have",
            )
        instance = dto.instance
        if instance is not None and link.origin_id == str(SUBGRAPH_INPUT_ID):
            return self._resolve_from_instance(instance, link, visited)
        origin = node.graph.by_id.get(link.origin_id)
        if origin is None:
            raise _node_error(
                "missing_link_origin",
                dto,
                f"input {slot_input.name!r} is linked to node {link.origin_id}, which does not exist",
            )
        origin_dto = self.dtos[":".join((*dto.path, origin.id))]
        return self._resolve_output(
            origin_dto, link.origin_slot, kind if kind is not None else slot_input.type, visited
        )

    def _resolve_from_instance(
        self, instance: _Dto, link: Link, visited: set[str]
    ) -> _Resolved | None:
        node = instance.node
        if not 0 <= link.origin_slot < len(node.inputs):
            raise _node_error("missing_slot", instance, f"has no input slot {link.origin_slot}")
        outer_input = node.inputs[link.origin_slot]
        if outer_input.link is None:
            widget = node.find_widget(outer_input.widget)
            if widget is None:
                return None
            return _Resolved(widget_value=widget.current, is_widget=True)
        outer = node.graph.links.get(outer_input.link)
        if outer is None:
            raise _node_error(
                "missing_link", instance, f"input {outer_input.name!r} names a missing link"
            )
        index = next(
            (i for i, s in enumerate(node.inputs) if s.link == outer.id), outer.target_slot
        )
        return self._resolve_input(instance, index, visited)

    def _resolve_output(
        self, dto: _Dto, slot: int, kind: Any, visited: set[str]
    ) -> _Resolved | None:
        self._guard(dto, "O", slot, visited)
        node = dto.node
        if node.mode == MODE_BYPASS:
            index = _bypass_slot(node, slot, kind)
            if index < 0:
                return None
            return self._resolve_input(dto, index, visited)
        if node.subgraph is not None:
            return self._resolve_subgraph_output(dto, node.subgraph, slot, kind, visited)
        if node.virtual:
            if slot < len(node.inputs):
                return self._resolve_input(dto, slot, visited, kind)
            return None
        return _Resolved(dto.id, slot)

    def _resolve_subgraph_output(
        self, dto: _Dto, subgraph: EditorGraph, slot: int, kind: Any, visited: set[str]
    ) -> _Resolved | None:
        if not 0 <= slot < len(subgraph.outputs):
            raise _node_error("missing_slot", dto, f"has no output slot {slot}")
        inner_link = next(
            (subgraph.links[i] for i in subgraph.outputs[slot][2] if i in subgraph.links), None
        )
        if inner_link is None:
            return None
        inner = subgraph.by_id.get(inner_link.origin_id)
        if inner is None:
            raise _node_error("missing_link_origin", dto, f"output {slot} has no inner origin")
        inner_dto = self.dtos[":".join((*dto.path, dto.node.id, inner.id))]
        return self._resolve_output(inner_dto, inner_link.origin_slot, kind, visited)


def _refuse_cycles(prompt: ApiPrompt) -> None:
    """ComfyUI cannot run a prompt whose links loop; the frontend sends it all the same."""
    done: set[str] = set()
    for start in prompt:
        if start in done:
            continue
        path: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = [(start, _sources(prompt, start))]
        path.add(start)
        while stack:
            node_id, sources = stack[-1]
            source = next(sources, None)
            if source is None:
                stack.pop()
                path.discard(node_id)
                done.add(node_id)
            elif source in path:
                raise ConversionError(
                    "cycle",
                    f"node {source} ({prompt[source]['class_type']}) depends on itself "
                    "through a loop of links",
                    node_id=source,
                    node_type=prompt[source]["class_type"],
                )
            elif source not in done:
                path.add(source)
                stack.append((source, _sources(prompt, source)))


def _sources(prompt: ApiPrompt, node_id: str) -> Iterator[str]:
    for value in prompt[node_id]["inputs"].values():
        if isinstance(value, list) and len(value) == 2 and value[0] in prompt:
            yield value[0]


def _node_error(reason: str, dto: _Dto, what: str) -> ConversionError:
    return ConversionError(
        reason, f"node {dto.id} ({dto.node.type}) {what}", node_id=dto.id, node_type=dto.node.type
    )


def _wrap(value: Any) -> Any:
    """A list value is sent as `{"__value__": [...]}`: a bare pair would read as a link."""
    return {"__value__": value} if isinstance(value, list) else value


def _valid_connection(a: Any, b: Any) -> bool:
    """LiteGraph.isValidConnection: `*`/empty match all; comma lists match any member."""
    a = 0 if a in ("", "*") else a
    b = 0 if b in ("", "*") else b
    if not a or not b or a == b:
        return True
    left, right = str(a).lower(), str(b).lower()
    if "," not in left and "," not in right:
        return left == right
    return any(_valid_connection(x, y) for x in left.split(",") for y in right.split(","))


def _bypass_slot(node: EditorNode, slot: int, kind: Any) -> int:
    """The input a bypassed node passes through for output `slot` (-1: none)."""
    inputs = node.inputs
    if kind in ("*", ""):
        return slot if len(inputs) > slot else 0
    output_type = node.outputs[slot][0] if slot < len(node.outputs) else None
    if slot < len(inputs):
        opposite = inputs[slot].type
        if _valid_connection(opposite, output_type) and _valid_connection(opposite, kind):
            return slot
    for index, item in enumerate(inputs):
        if item.type == kind:
            return index
    for index, item in enumerate(inputs):
        if _valid_connection(item.type, output_type) and _valid_connection(item.type, kind):
            return index
    return -1


def _execution_order(graph: EditorGraph) -> list[EditorNode]:
    """LGraph.computeExecutionOrder: Kahn's order from the nodes with no linked input."""
    remaining: dict[str, int] = {}
    ready: list[EditorNode] = []
    for node in graph.nodes:
        count = sum(1 for i in node.inputs if i.link is not None)
        if count:
            remaining[node.id] = count
        else:
            ready.append(node)
    order: list[EditorNode] = []
    placed: set[str] = set()
    seen_links: set[str] = set()
    while ready:
        node = ready.pop(0)
        order.append(node)
        placed.add(node.id)
        for _kind, links in node.outputs:
            for link_id in links:
                link = graph.links.get(link_id)
                if link is None or link.id in seen_links:
                    continue
                seen_links.add(link.id)
                target = graph.by_id.get(link.target_id)
                if target is None:
                    continue
                remaining[target.id] = remaining.get(target.id, 0) - 1
                if remaining[target.id] == 0:
                    ready.append(target)
    order += [n for n in graph.nodes if n.id not in placed]
    return order


def _all_nodes(graph: EditorGraph) -> Iterator[EditorNode]:
    """Every node of the workflow, subgraph definitions included (each definition once)."""
    seen: set[int] = set()

    def walk(current: EditorGraph) -> Iterable[EditorNode]:
        for node in current.nodes:
            yield node
            if node.subgraph is not None and id(node.subgraph) not in seen:
                seen.add(id(node.subgraph))
                yield from walk(node.subgraph)

    return iter(list(walk(graph)))
