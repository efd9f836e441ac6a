"""Any JSON at all: a prompt or a ConversionError, never another exception (never a 500)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comfyhangar.comfyui.convert import ui_to_api
from comfyhangar.comfyui.errors import ConversionError
from comfyhangar.comfyui.formats import detect_format
from comfyhangar.comfyui.node_layout import NodeCatalog
from tests.comfyui.references import RECORDED_AT, SHARED_OBJECT_INFO, TRAPS_DIR

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 300)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
REASONS = {
    "invalid_workflow",
    "unknown_node_type",
    "missing_link",
    "missing_link_origin",
    "missing_slot",
    "cycle",
    "invalid_widget_value",
    "primitive_in_subgraph",
    "needs_browser",
    "group_node_unsupported",
    "too_large",
}
SEEDS = [json.loads(p.read_text()) for p in sorted(TRAPS_DIR.glob("*.ui.json"))]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@pytest.fixture(scope="module")
def catalog() -> NodeCatalog:
    if not SHARED_OBJECT_INFO.exists():
        pytest.skip(f"the /object_info snapshot is not at {SHARED_OBJECT_INFO} (../shared)")
    return NodeCatalog(json.loads(Path(SHARED_OBJECT_INFO).read_text()))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_workflows_convert_or_are_refused(
    catalog: NodeCatalog, data: st.DataObject
) -> None:
    document = copy.deepcopy(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)))
        document = _replace(document, path, data.draw(JSON))
    detect_format(document)
    try:
        prompt = ui_to_api(document, catalog, random=lambda: 0.5, now=RECORDED_AT)
    except ConversionError as error:
        reason = error.reason
    else:
        json.dumps(prompt)  # what comes out can always be sent
        return
    assert reason in REASONS
