"""Which of ComfyUI's two workflow formats a JSON document is in, and if neither, why.

- UI format: what the editor saves and embeds as `workflow` in its PNGs: an object with a
  `nodes` list (each node an object with `id` and `type`) and usually a `links` list.
- API format: what `POST /prompt` runs (`prompt` in PNGs, "Export (API)" in the editor): an
  object mapping node ids to `{"class_type": str, "inputs": {...}}`.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class WorkflowFormat(StrEnum):
    UI = "ui"
    API = "api"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Detection:
    """The format of a document; `reason` says why when it is neither."""

    format: WorkflowFormat
    reason: str | None = None


def detect_format(document: Any) -> Detection:
    """Tell a UI workflow from an API prompt (or say why a document is neither)."""
    if not isinstance(document, Mapping):
        return _neither(f"a workflow is a JSON object, not {_kind(document)}")
    if "nodes" in document:
        return _detect_ui(document)
    if not document:
        return _neither("the object is empty")
    if "prompt" in document and isinstance(document["prompt"], Mapping):
        inner = detect_format(document["prompt"])
        if inner.format is WorkflowFormat.API:
            return _neither("this is a /prompt request body: its `prompt` field is the API prompt")
    for node_id, node in document.items():
        if not isinstance(node, Mapping):
            return _neither(
                f"not a UI workflow (no `nodes`) nor an API prompt: {node_id!r} is "
                f"{_kind(node)}, not a node object"
            )
        if not isinstance(node.get("class_type"), str) or not node["class_type"]:
            return _neither(f"API prompt node {node_id!r} has no `class_type`")
        if not isinstance(node.get("inputs", {}), Mapping):
            return _neither(f"API prompt node {node_id!r}: `inputs` is not an object")
    return Detection(WorkflowFormat.API)


def _detect_ui(document: Mapping[str, Any]) -> Detection:
    nodes = document["nodes"]
    if not isinstance(nodes, list):
        return _neither(f"UI workflow: `nodes` is {_kind(nodes)}, not a list")
    links = document.get("links", [])
    if not isinstance(links, list):
        return _neither(f"UI workflow: `links` is {_kind(links)}, not a list")
    for index, node in enumerate(nodes):
        if not isinstance(node, Mapping) or "id" not in node:
            return _neither(f"UI workflow: node #{index} has no `id`")
        if not isinstance(node.get("type"), str):
            return _neither(f"UI workflow: node {node['id']!r} has no `type`")
    return Detection(WorkflowFormat.UI)


def _neither(reason: str) -> Detection:
    return Detection(WorkflowFormat.UNKNOWN, reason)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
