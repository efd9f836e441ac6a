"""Telling UI workflows from API prompts, and saying why a document is neither."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comfyhangar.comfyui.embedded import read_embedded
from comfyhangar.comfyui.formats import WorkflowFormat, detect_format
from tests.comfyui.references import recordings


def test_templates_are_ui_and_their_recorded_prompts_are_api() -> None:
    for path in recordings("templates")[:40]:
        recording = json.loads(path.read_text())
        assert detect_format(recording["output"]).format is WorkflowFormat.API, path.name
    trap = Path(__file__).parent / "fixtures" / "traps" / "nested-subgraphs.ui.json"
    assert detect_format(json.loads(trap.read_text())).format is WorkflowFormat.UI


def test_what_comfyui_embeds_is_detected() -> None:
    image = Path(__file__).parent / "fixtures" / "embedded" / "comfyui-0.3.64-saveimage.png"
    found = read_embedded(image.read_bytes())
    assert detect_format(found.prompt).format is WorkflowFormat.API
    assert detect_format(found.workflow).format is WorkflowFormat.UI


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ([], "JSON object, not a list"),
        ("text", "not a string"),
        (None, "not null"),
        ({}, "empty"),
        ({"nodes": {}}, "`nodes` is an object"),
        ({"nodes": [], "links": 3}, "`links` is a number"),
        ({"nodes": [{"type": "X"}]}, "node #0 has no `id`"),
        ({"nodes": [{"id": 4}]}, "node 4 has no `type`"),
        ({"3": {"inputs": {}}}, "node '3' has no `class_type`"),
        ({"3": {"class_type": "X", "inputs": []}}, "`inputs` is not an object"),
        ({"3": 5}, "'3' is a number"),
        ({"prompt": {"3": {"class_type": "X", "inputs": {}}}}, "/prompt request body"),
    ],
)
def test_neither_format_says_why(document: Any, says: str) -> None:
    detection = detect_format(document)
    assert detection.format is WorkflowFormat.UNKNOWN
    assert detection.reason is not None
    assert says in detection.reason
