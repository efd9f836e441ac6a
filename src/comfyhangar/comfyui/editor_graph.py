"""A UI workflow loaded the way the ComfyUI editor (frontend 1.27.10) loads it.

`load_editor_graph` builds the graphs (root and subgraph definitions) with every node's slots
following its class definition and its widget values applied by position, as `loadGraphData`
leaves them: old files migrated, load-time renames applied, PrimitiveNodes given the widget of
the first input they feed, subgraph instances given promoted widgets (views of the inner widget
they promote). `convert.py` flattens the result into an API prompt.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
from comfyhangar.comfyui.widget_values import js_string

MODE_ALWAYS = 0
MODE_NEVER = 2
MODE_BYPASS = 4
SUBGRAPH_INPUT_ID = -10
MAX_NODES = 10_000
MAX_SUBGRAPH_DEPTH = 32
SEARCH_NAME_PROPERTY = "Node name for S&R"


@dataclass(slots=True)
class Link:
    """A link: from output `origin_slot` of `origin_id` to input `target_slot` of `target_id`."""

    id: str
    origin_id: str
    origin_slot: int
    target_id: str
    target_slot: int
    type: Any


@dataclass(slots=True)
class SlotInput:
    """An input slot of a loaded node: its link, and the widget it can replace (if any)."""

    name: str
    type: Any
    link: str | None
    widget: str | None


class WidgetState:
    """A widget of a loaded node: its layout entry and its value.

    A promoted widget (on a subgraph instance) is a view of the inner widget it promotes:
    reading and writing go to that inner widget, as in the frontend, where every instance of
    one subgraph therefore shares the value last written (kept: it is what the frontend sends).
    """

    __slots__ = ("_target", "_value", "spec")

    def __init__(self, spec: Widget, value: Any, target: WidgetState | None = None) -> None:
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

    def promoted_as(self, name: str) -> WidgetState:
        """The view of this widget that a subgraph instance shows under `name`."""
        spec = Widget(
            name,
            None,
            consumes_value=self.spec.consumes_value,
            in_prompt=self.spec.in_prompt,
            dynamic_prompts=self.spec.dynamic_prompts,
        )
        return WidgetState(spec, None, target=self)


@dataclass(slots=True)
class EditorNode:
    """A node as the editor holds it: slots, widgets with their values, properties."""

    id: str
    type: str
    mode: int
    title: str
    graph: EditorGraph
    layout: NodeLayout | None
    inputs: list[SlotInput]
    outputs: list[tuple[Any, list[str]]]
    widgets: list[WidgetState]
    properties: dict[str, Any]
    subgraph: EditorGraph | None = None
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

    def find_widget(self, name: str | None) -> WidgetState | None:
        if name is None:
            return None
        return next((w for w in self.widgets if w.spec.name == name), None)


@dataclass(slots=True)
class EditorGraph:
    """The root graph or one subgraph definition, with its nodes and links by id."""

    id: str | None
    """None for the root graph, the definition's uuid for a subgraph."""
    name: str
    nodes: list[EditorNode] = field(default_factory=list)
    by_id: dict[str, EditorNode] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
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


def _parse_link(raw: Any) -> Link:
    if isinstance(raw, list) and len(raw) >= 5:
        link_id, origin, oslot, target, tslot = raw[:5]
        kind = raw[5] if len(raw) > 5 else "*"
    elif isinstance(raw, Mapping) and "id" in raw:
        link_id, origin, oslot = raw["id"], raw.get("origin_id"), raw.get("origin_slot")
        target, tslot, kind = raw.get("target_id"), raw.get("target_slot"), raw.get("type")
    else:
        raise ConversionError("invalid_workflow", f"a link is malformed: {str(raw)[:100]}")
    return Link(
        _key(link_id),
        _key(origin),
        _int(oslot, "a link's origin slot"),
        _key(target),
        _int(tslot, "a link's target slot"),
        kind,
    )


class _Loader:
    """Builds `EditorGraph`s from the JSON, with widget values applied as the editor applies them."""

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
        self.subgraphs: dict[str, EditorGraph] = {}
        self.count = 0

    def load(self) -> EditorGraph:
        if _mapping(self.workflow.get("extra")).get("groupNodes"):
            self._refuse_group_nodes()
        root = EditorGraph(None, "")
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

    def _subgraph(self, definition_id: str, stack: tuple[str, ...]) -> EditorGraph:
        if definition_id in stack:
            raise ConversionError(
                "cycle", f"subgraph {definition_id} contains itself", node_type=definition_id
            )
        if len(stack) >= MAX_SUBGRAPH_DEPTH:
            raise ConversionError("too_large", "subgraphs are nested too deeply")
        found = self.subgraphs.get(definition_id)
        if found is None:
            definition = self.definitions[definition_id]
            found = EditorGraph(definition_id, str(definition.get("name") or definition_id))
            for slot_list, target in (("inputs", found.inputs), ("outputs", found.outputs)):
                for slot in _list(definition.get(slot_list)):
                    slot = _mapping(slot)
                    ids = [_key(i) for i in _list(slot.get("linkIds"))]
                    target.append((str(slot.get("name", "")), slot.get("type"), ids))
            self.subgraphs[definition_id] = found
            self._fill(found, definition, (*stack, definition_id))
        return found

    def _fill(self, graph: EditorGraph, data: Mapping[str, Any], stack: tuple[str, ...]) -> None:
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

    def _node(
        self, graph: EditorGraph, raw: Mapping[str, Any], stack: tuple[str, ...]
    ) -> EditorNode:
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
        node = EditorNode(node_id, kind, mode, "", graph, None, [], [], [], properties)
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
        node: EditorNode,
        subgraph: EditorGraph,
        saved_inputs: list[Mapping[str, Any]],
        saved_outputs: list[Mapping[str, Any]],
        values: Any,
    ) -> None:
        by_name = {str(i.get("name", "")): i for i in saved_inputs}
        node.inputs = []
        for name, kind, link_ids in subgraph.inputs:
            saved = by_name.get(name)
            link = saved.get("link") if saved else None
            slot = SlotInput(name, kind, None if link is None else _key(link), None)
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


def _saved_input(raw: Mapping[str, Any]) -> SlotInput:
    link = raw.get("link")
    widget = raw.get("widget")
    widget_name = widget.get("name") if isinstance(widget, Mapping) else None
    return SlotInput(
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
    node: EditorNode,
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
        slot = _saved_input(saved) if saved else SlotInput(socket.name, socket.type, None, None)
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
    node.widgets = [WidgetState(w, w.default) for w in layout.widgets]
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


def _assign_values(node: EditorNode, values: Any) -> None:
    if not isinstance(values, list):
        return  # a dict of values (some custom nodes) is not applied by the core loader
    slots = [w for w in node.widgets if w.spec.consumes_value]
    for widget, value in zip(slots, values, strict=False):
        widget.value = value


def _first_promotable_widget(subgraph: EditorGraph, link_ids: list[str]) -> WidgetState | None:
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


def target_input(graph: EditorGraph, link: Link) -> tuple[EditorNode, SlotInput] | None:
    target = graph.by_id.get(link.target_id)
    if target is None:
        return None
    for slot in target.inputs:
        if slot.link == link.id:
            return target, slot
    return None


def _configure_primitive(node: EditorNode, graph: EditorGraph) -> None:
    """A PrimitiveNode takes the widget of the first input it feeds, then its saved values."""
    links = node.outputs[0][1] if node.outputs else []
    if not links or (link := graph.links.get(links[0])) is None:
        return
    found = target_input(graph, link)
    if found is None:
        return
    target, slot = found
    their = target.find_widget(slot.widget)
    if their is None:
        if slot.widget is not None or target.layout is None:
            return  # a socket without a widget definition (e.g. forceInput): no widget
        if str(slot.type) not in ("INT", "FLOAT", "BOOLEAN", "STRING", "COMBO"):
            return
        node.widgets = [WidgetState(Widget("value", None), None)]
    else:
        node.widgets = [WidgetState(Widget("value", their.value), their.value)]
    if isinstance(node.saved_values, list) and node.saved_values:
        node.widgets[0].value = node.saved_values[0]


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


def load_editor_graph(workflow: Mapping[str, Any], catalog: NodeCatalog) -> EditorGraph:
    """The root graph of a UI workflow as the editor holds it after `loadGraphData`."""
    return _Loader(workflow, catalog).load()
