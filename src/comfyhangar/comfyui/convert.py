"""UI workflow -> API prompt, as the ComfyUI frontend's `graphToPrompt` (1.27.10) does it.

`ui_to_api(workflow, object_info)` loads the graph the way the editor does (widget values by
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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from comfyhangar.comfyui.errors import ConversionError
from comfyhangar.comfyui.node_layout import (
    FRONTEND_ONLY_TYPES,
    RENAMED_TYPES,
    SAVE_NODE_TYPES,
    NodeCatalog,
    NodeLayout,
    Widget,
    annotate_file,
    dom_text,
)
from comfyhangar.comfyui.widget_values import (
    Draw,
    apply_text_replacements,
    js_string,
    resolve_dynamic_prompt,
)

ApiPrompt = dict[str, dict[str, Any]]

MODE_ALWAYS = 0
MODE_NEVER = 2
MODE_BYPASS = 4
SUBGRAPH_INPUT_ID = -10
SUBGRAPH_OUTPUT_ID = -20
# Nodes whose value is made in the browser when queued (a camera frame, a 3D scene capture).
BROWSER_ONLY_TYPES = frozenset({"WebcamCapture", "Load3D", "Load3DAnimation"})
MAX_NODES = 10_000
MAX_SUBGRAPH_DEPTH = 32
SEARCH_NAME_PROPERTY = "Node name for S&R"
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
    loaded = _Loader(workflow, catalog).load()
    try:
        return _Flattener(loaded, draw, when).prompt()
    except RecursionError:
        # Resolution recurses once per Reroute, bypassed node or subgraph boundary on a path.
        raise ConversionError(
            "too_large", "links run through too many Reroutes, bypassed nodes or subgraphs"
        ) from None


# ---------------------------------------------------------------------------------------------
# Loading: the graph as the editor holds it after `loadGraphData`.


@dataclass(slots=True)
class _Link:
    id: str
    origin_id: str
    origin_slot: int
    target_id: str
    target_slot: int
    type: Any


@dataclass(slots=True)
class _Input:
    name: str
    type: Any
    link: str | None
    widget: str | None


class _WidgetState:
    """A widget of a loaded node: its layout entry and its value.

    A promoted widget (on a subgraph instance) is a view of the inner widget it promotes:
    reading and writing go to that inner widget, as in the frontend, where every instance of
    one subgraph therefore shares the value last written (kept: it is what the frontend sends).
    """

    __slots__ = ("_target", "_value", "spec")

    def __init__(self, spec: Widget, value: Any, target: _WidgetState | None = None) -> None:
        self.spec = spec
        self._target = target
        self._value: Any = None
        if target is None:
            self.value = value

    @property
    def value(self) -> Any:
        return self._target.value if self._target is not None else self._value

    @value.setter
    def value(self, value: Any) -> None:
        if self._target is not None:
            self._target.value = value
        elif self.spec.text_box:
            self._value = dom_text(value)
        else:
            self._value = value

    @property
    def current(self) -> Any:
        """The value as the widget reports it (upload combos format their file names)."""
        if self._target is not None:
            return self._target.current
        if self.spec.upload_folder is None:
            return self._value
        return _upload_value(self._value, self.spec)

    def promoted_as(self, name: str) -> _WidgetState:
        """The view of this widget that a subgraph instance shows under `name`."""
        spec = Widget(
            name,
            None,
            consumes_value=self.spec.consumes_value,
            in_prompt=self.spec.in_prompt,
            dynamic_prompts=self.spec.dynamic_prompts,
        )
        return _WidgetState(spec, None, target=self)


@dataclass(slots=True)
class _Node:
    id: str
    type: str
    mode: int
    title: str
    graph: _Graph
    layout: NodeLayout | None
    inputs: list[_Input]
    outputs: list[tuple[Any, list[str]]]
    widgets: list[_WidgetState]
    properties: dict[str, Any]
    subgraph: _Graph | None = None
    """For a subgraph instance: its definition."""
    saved_values: Any = None
    """`widgets_values` as saved (read by PrimitiveNode once it knows its widget)."""

    @property
    def virtual(self) -> bool:
        return self.subgraph is not None or self.type in FRONTEND_ONLY_TYPES

    @property
    def search_name(self) -> str | None:
        name = self.properties.get(SEARCH_NAME_PROPERTY)
        return name if isinstance(name, str) else None

    def widget_value(self, name: str) -> tuple[bool, Any]:
        found = self.find_widget(name)
        return (found is not None, found.current if found else None)

    def find_widget(self, name: str | None) -> _WidgetState | None:
        if name is None:
            return None
        return next((w for w in self.widgets if w.spec.name == name), None)


@dataclass(slots=True)
class _Graph:
    id: str | None
    """None for the root graph, the definition's uuid for a subgraph."""
    name: str
    nodes: list[_Node] = field(default_factory=list)
    by_id: dict[str, _Node] = field(default_factory=dict)
    links: dict[str, _Link] = field(default_factory=dict)
    inputs: list[tuple[str, Any, list[str]]] = field(default_factory=list)
    """Subgraph inputs: name, type, ids of the links from the input node."""
    outputs: list[tuple[str, Any, list[str]]] = field(default_factory=list)


def _key(value: Any) -> str:
    """Node and link ids as the frontend's object keys see them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConversionError("invalid_workflow", f"{what} is not a number: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ConversionError("invalid_workflow", f"{what} is not a number: {value!r}") from None


def _parse_link(raw: Any) -> _Link:
    if isinstance(raw, list) and len(raw) >= 5:
        link_id, origin, oslot, target, tslot = raw[:5]
        kind = raw[5] if len(raw) > 5 else "*"
    elif isinstance(raw, Mapping) and "id" in raw:
        link_id, origin, oslot = raw["id"], raw.get("origin_id"), raw.get("origin_slot")
        target, tslot, kind = raw.get("target_id"), raw.get("target_slot"), raw.get("type")
    else:
        raise ConversionError("invalid_workflow", f"a link is malformed: {str(raw)[:100]}")
    return _Link(
        _key(link_id),
        _key(origin),
        _int(oslot, "a link's origin slot"),
        _key(target),
        _int(tslot, "a link's target slot"),
        kind,
    )


class _Loader:
    """Builds `_Graph`s from the JSON, with widget values applied as the editor applies them."""

    def __init__(self, workflow: Mapping[str, Any], catalog: NodeCatalog) -> None:
        if not isinstance(workflow, Mapping) or not isinstance(workflow.get("nodes"), list):
            raise ConversionError("invalid_workflow", "a UI workflow needs a `nodes` list")
        self.workflow = workflow
        self.catalog = catalog
        subgraphs = _list(_mapping(workflow.get("definitions")).get("subgraphs"))
        self.definitions: dict[str, Mapping[str, Any]] = {}
        for item in subgraphs:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                self.definitions[item["id"]] = item
        self.subgraphs: dict[str, _Graph] = {}
        self.count = 0

    def load(self) -> _Graph:
        if _mapping(self.workflow.get("extra")).get("groupNodes"):
            self._refuse_group_nodes()
        root = _Graph(None, "")
        self._fill(root, self.workflow, ())
        return root

    def _refuse_group_nodes(self) -> None:
        groups = _mapping(_mapping(self.workflow.get("extra")).get("groupNodes"))
        for raw in self.workflow["nodes"]:
            kind = raw.get("type") if isinstance(raw, Mapping) else None
            if isinstance(kind, str) and kind.split(">", 1)[-1] in groups:
                raise ConversionError(
                    "group_node_unsupported",
                    "legacy group nodes are not supported: convert them to subgraphs in the "
                    "editor (right click > Convert to subgraph) or export the workflow as API",
                    node_id=_key(raw.get("id")),
                    node_type=kind,
                )

    def _subgraph(self, definition_id: str, stack: tuple[str, ...]) -> _Graph:
        if definition_id in stack:
            raise ConversionError(
                "cycle", f"subgraph {definition_id} contains itself", node_type=definition_id
            )
        if len(stack) >= MAX_SUBGRAPH_DEPTH:
            raise ConversionError("too_large", "subgraphs are nested too deeply")
        found = self.subgraphs.get(definition_id)
        if found is None:
            definition = self.definitions[definition_id]
            found = _Graph(definition_id, str(definition.get("name") or definition_id))
            for slot_list, target in (("inputs", found.inputs), ("outputs", found.outputs)):
                for slot in _list(definition.get(slot_list)):
                    slot = _mapping(slot)
                    ids = [_key(i) for i in _list(slot.get("linkIds"))]
                    target.append((str(slot.get("name", "")), slot.get("type"), ids))
            self.subgraphs[definition_id] = found
            self._fill(found, definition, (*stack, definition_id))
        return found

    def _fill(self, graph: _Graph, data: Mapping[str, Any], stack: tuple[str, ...]) -> None:
        for raw in _list(data.get("links")):
            if raw is None:
                continue
            link = _parse_link(raw)
            graph.links[link.id] = link
        raws = _list(data.get("nodes"))
        self.count += len(raws)
        if self.count > MAX_NODES:
            raise ConversionError("too_large", f"more than {MAX_NODES} nodes")
        for raw in raws:
            if not isinstance(raw, Mapping) or "id" not in raw:
                raise ConversionError("invalid_workflow", "a node has no id")
            node = self._node(graph, raw, stack)
            graph.nodes.append(node)
            graph.by_id[node.id] = node
        for node in graph.nodes:
            if node.type == "PrimitiveNode":
                _configure_primitive(node, graph)

    def _node(self, graph: _Graph, raw: Mapping[str, Any], stack: tuple[str, ...]) -> _Node:
        node_id = _key(raw["id"])
        kind = raw.get("type")
        if not isinstance(kind, str):
            raise ConversionError("invalid_workflow", "a node has no type", node_id=node_id)
        kind = RENAMED_TYPES.get(kind, kind)
        mode = raw.get("mode")
        mode = mode if isinstance(mode, int) and not isinstance(mode, bool) else MODE_ALWAYS
        properties = dict(_mapping(raw.get("properties")))
        saved_inputs = [i for i in _list(raw.get("inputs")) if isinstance(i, Mapping)]
        saved_outputs = [o for o in _list(raw.get("outputs")) if isinstance(o, Mapping)]
        values = raw.get("widgets_values")
        node = _Node(node_id, kind, mode, "", graph, None, [], [], [], properties)
        node.saved_values = values
        if kind in self.definitions:
            node.subgraph = self._subgraph(kind, stack)
            node.title = _title(raw, node.subgraph.name)
            self._configure_instance(node, node.subgraph, saved_inputs, saved_outputs, values)
        elif kind in self.catalog:
            node.layout = self.catalog.layout(kind)
            node.title = _title(raw, node.layout.title)
            if kind not in SAVE_NODE_TYPES:
                node.properties.setdefault(SEARCH_NAME_PROPERTY, kind)
            _configure_known(node, node.layout, saved_inputs, saved_outputs, values)
        else:
            node.title = _title(raw, _frontend_title(kind))
            node.inputs = [_saved_input(i) for i in saved_inputs]
            node.outputs = [_saved_output(o) for o in saved_outputs]
            if kind in ("Note", "MarkdownNote"):
                node.inputs = []
        return node

    def _configure_instance(
        self,
        node: _Node,
        subgraph: _Graph,
        saved_inputs: list[Mapping[str, Any]],
        saved_outputs: list[Mapping[str, Any]],
        values: Any,
    ) -> None:
        by_name = {str(i.get("name", "")): i for i in saved_inputs}
        node.inputs = []
        for name, kind, link_ids in subgraph.inputs:
            saved = by_name.get(name)
            link = saved.get("link") if saved else None
            slot = _Input(name, kind, None if link is None else _key(link), None)
            node.inputs.append(slot)
            widget = _first_promotable_widget(subgraph, link_ids)
            if widget is not None:
                slot.widget = name
                node.widgets.append(widget.promoted_as(name))
        node.outputs = [
            (kind, _output_links(saved_outputs, index))
            for index, (_name, kind, _ids) in enumerate(subgraph.outputs)
        ]
        _assign_values(node, values)


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one (what the editor makes of junk)."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def _title(raw: Mapping[str, Any], default: str) -> str:
    title = raw.get("title")
    return title if isinstance(title, str) and title else default


def _frontend_title(kind: str) -> str:
    return {"PrimitiveNode": "Primitive", "MarkdownNote": "Markdown Note"}.get(kind, kind)


def _saved_input(raw: Mapping[str, Any]) -> _Input:
    link = raw.get("link")
    widget = raw.get("widget")
    widget_name = widget.get("name") if isinstance(widget, Mapping) else None
    return _Input(
        str(raw.get("name", "")),
        raw.get("type"),
        None if link is None else _key(link),
        widget_name if isinstance(widget_name, str) else None,
    )


def _saved_output(raw: Mapping[str, Any]) -> tuple[Any, list[str]]:
    return raw.get("type"), [_key(i) for i in _list(raw.get("links"))]


def _output_links(saved_outputs: list[Mapping[str, Any]], index: int) -> list[str]:
    if index < len(saved_outputs):
        return [_key(i) for i in _list(saved_outputs[index].get("links"))]
    return []


def _configure_known(
    node: _Node,
    layout: NodeLayout,
    saved_inputs: list[Mapping[str, Any]],
    saved_outputs: list[Mapping[str, Any]],
    values: Any,
) -> None:
    """The frontend's `ComfyNode.configure`: slots follow the definition, values by position."""
    by_name = {str(i.get("name", "")): i for i in saved_inputs}
    defined = set()
    for socket in layout.sockets:
        defined.add(socket.name)
        saved = by_name.get(socket.name)
        slot = _saved_input(saved) if saved else _Input(socket.name, socket.type, None, None)
        slot.type = socket.type
        slot.widget = socket.widget if socket.widget is not None else slot.widget
        node.inputs.append(slot)
    node.inputs += [_saved_input(i) for i in saved_inputs if str(i.get("name", "")) not in defined]
    count = max(len(layout.output_types), len(saved_outputs))
    for index in range(count):
        kind = layout.output_types[index] if index < len(layout.output_types) else None
        if kind is None:
            kind = saved_outputs[index].get("type")
        node.outputs.append((kind, _output_links(saved_outputs, index)))
    node.widgets = [_WidgetState(w, w.default) for w in layout.widgets]
    _assign_values(node, _migrate(layout, values))
    if node.type in ("KSampler", "KSamplerAdvanced"):
        sampler = node.find_widget("sampler_name")
        if sampler and isinstance(sampler.value, str) and sampler.value.startswith("sample_"):
            sampler.value = sampler.value[7:]


def _migrate(layout: NodeLayout, values: Any) -> Any:
    """`migrateWidgetsValues`: old files also stored a value for each `forceInput` input."""
    if not isinstance(values, list):
        return values
    if layout.migration_total != len(values):
        return values
    # Zipped one value per input, not per widget (the frontend's quirk, kept): a value past the
    # last input always stays.
    forced = [f for _count, f in layout.migration_counts]
    return [v for i, v in enumerate(values) if not (i < len(forced) and forced[i])]


def _assign_values(node: _Node, values: Any) -> None:
    if not isinstance(values, list):
        return  # a dict of values (some custom nodes) is not applied by the core loader
    slots = [w for w in node.widgets if w.spec.consumes_value]
    for widget, value in zip(slots, values, strict=False):
        widget.value = value


def _first_promotable_widget(subgraph: _Graph, link_ids: list[str]) -> _WidgetState | None:
    """The first inner widget a subgraph input feeds (what the instance promotes)."""
    for link_id in link_ids:
        link = subgraph.links.get(link_id)
        if link is None:
            continue
        target = subgraph.by_id.get(link.target_id)
        if target is None or not 0 <= link.target_slot < len(target.inputs):
            continue
        widget = target.find_widget(target.inputs[link.target_slot].widget)
        if widget is not None:
            return widget
    return None


def _target_input(graph: _Graph, link: _Link) -> tuple[_Node, _Input] | None:
    target = graph.by_id.get(link.target_id)
    if target is None:
        return None
    for slot in target.inputs:
        if slot.link == link.id:
            return target, slot
    return None


def _configure_primitive(node: _Node, graph: _Graph) -> None:
    """A PrimitiveNode takes the widget of the first input it feeds, then its saved values."""
    links = node.outputs[0][1] if node.outputs else []
    if not links or (link := graph.links.get(links[0])) is None:
        return
    found = _target_input(graph, link)
    if found is None:
        return
    target, slot = found
    their = target.find_widget(slot.widget)
    if their is None:
        if slot.widget is not None or target.layout is None:
            return  # a socket without a widget definition (e.g. forceInput): no widget
        if str(slot.type) not in ("INT", "FLOAT", "BOOLEAN", "STRING", "COMBO"):
            return
        node.widgets = [_WidgetState(Widget("value", None), None)]
    else:
        node.widgets = [_WidgetState(Widget("value", their.value), their.value)]
    if isinstance(node.saved_values, list) and node.saved_values:
        node.widgets[0].value = node.saved_values[0]


# ---------------------------------------------------------------------------------------------
# Flattening: the executable nodes of `graphToPrompt`.


@dataclass(slots=True)
class _Dto:
    id: str
    node: _Node
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
    def __init__(self, root: _Graph, draw: Draw, now: datetime) -> None:
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

    def _expand(self, instance: _Dto, subgraph: _Graph) -> None:
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

    def _apply_primitives(self, graph: _Graph, path: tuple[str, ...]) -> None:
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
        self, node_id: str, graph: _Graph, link_id: str
    ) -> tuple[_Node, _Input] | None:
        """The input a PrimitiveNode writes through one of its links, as the frontend finds it.

        The frontend looks the link up in the root graph's links even for a PrimitiveNode inside
        a subgraph, then the target by that link's node id and slot index in the subgraph: it
        writes to whatever that names (often nothing), and fails when the root has no such link.
        """
        if graph is self.root:
            link = graph.links.get(link_id)
            return _target_input(graph, link) if link else None
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

    def _serialize(self, dto: _Dto, widget: _WidgetState) -> Any:
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
        self, instance: _Dto, link: _Link, visited: set[str]
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
        self, dto: _Dto, subgraph: _Graph, slot: int, kind: Any, visited: set[str]
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


def _upload_value(value: Any, spec: Widget) -> Any:
    """The value an upload combo reports (`useImageUploadWidget`'s transform)."""
    folder = spec.upload_folder or "input"
    if not value:
        return spec.upload_initial
    if isinstance(value, list):
        return annotate_file(_file_name(value[0]), folder)
    return annotate_file(_file_name(value), folder)


def _file_name(item: Any) -> str:
    if isinstance(item, Mapping):
        name = str(item.get("filename") or "")
        sub = item.get("subfolder")
        return f"{sub}/{name}" if sub else name
    return js_string(item)


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


def _bypass_slot(node: _Node, slot: int, kind: Any) -> int:
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


def _execution_order(graph: _Graph) -> list[_Node]:
    """LGraph.computeExecutionOrder: Kahn's order from the nodes with no linked input."""
    remaining: dict[str, int] = {}
    ready: list[_Node] = []
    for node in graph.nodes:
        count = sum(1 for i in node.inputs if i.link is not None)
        if count:
            remaining[node.id] = count
        else:
            ready.append(node)
    order: list[_Node] = []
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


def _all_nodes(graph: _Graph) -> Iterator[_Node]:
    """Every node of the workflow, subgraph definitions included (each definition once)."""
    seen: set[int] = set()

    def walk(current: _Graph) -> Iterable[_Node]:
        for node in current.nodes:
            yield node
            if node.subgraph is not None and id(node.subgraph) not in seen:
                seen.add(id(node.subgraph))
                yield from walk(node.subgraph)

    return iter(list(walk(graph)))
