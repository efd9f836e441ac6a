"""UI -> API conversion equals the real ComfyUI frontend (1.27.10) on every recorded pair.

The expected prompts were recorded from the real frontend by `record_conversions.py`; the UI
inputs are the official templates (installed package) and the hand-made trap graphs. Each
recording carries the random draws the frontend consumed: the converter is given the same draws.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from comfyhangar.comfyui.convert import ui_to_api
from comfyhangar.comfyui.errors import ConversionError
from comfyhangar.comfyui.node_layout import NodeCatalog
from comfyhangar.comfyui.widget_values import (
    apply_text_replacements,
    format_date,
    resolve_dynamic_prompt,
)
from tests.comfyui.references import (
    LAYOUTS,
    RECORDED_AT,
    SHARED_OBJECT_INFO,
    canonical_sha256,
    recorded_input,
    recordings,
    template_files,
)

TEMPLATES = recordings("templates")
TRAPS = [p for p in recordings("traps") if not p.name.startswith("refuse-")]


@pytest.fixture(scope="module")
def object_info() -> dict[str, Any]:
    if not SHARED_OBJECT_INFO.exists():
        pytest.skip(f"the /object_info snapshot is not at {SHARED_OBJECT_INFO} (../shared)")
    loaded: dict[str, Any] = json.loads(SHARED_OBJECT_INFO.read_text())
    return loaded


@pytest.fixture(scope="module")
def catalog(object_info: dict[str, Any]) -> NodeCatalog:
    return NodeCatalog(object_info)


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _replay(draws: list[float]) -> tuple[Callable[[], float], Callable[[], int]]:
    """A draw function that returns the recorded draws, and how many it gave."""
    given: Iterator[float] = iter(draws)
    count = 0

    def draw() -> float:
        nonlocal count
        count += 1
        return next(given)

    return draw, lambda: count


def _convert_recorded(kind: str, recording: dict[str, Any], catalog: NodeCatalog) -> Any:
    draw, used = _replay(recording["random_draws"])
    prompt = ui_to_api(recorded_input(kind, recording), catalog, random=draw, now=RECORDED_AT)
    assert used() == len(recording["random_draws"]), "not the frontend's number of draws"
    return prompt


def _trap(name: str, catalog: NodeCatalog, **kwargs: Any) -> Any:
    workflow = _load(Path(__file__).parent / "fixtures" / "traps" / f"{name}.ui.json")
    return ui_to_api(workflow, catalog, now=RECORDED_AT, **kwargs)


def _recorded(name: str) -> dict[str, Any]:
    return _load(Path(__file__).parent / "fixtures" / "frontend" / "traps" / f"{name}.api.json")


# -- the reference set itself ------------------------------------------------------------------


def test_recordings_were_made_against_this_object_info(object_info: dict[str, Any]) -> None:
    digest = canonical_sha256(object_info)
    for path in [*TEMPLATES, *recordings("traps"), LAYOUTS]:
        assert _load(path)["object_info_sha256"] == digest, path.name


def test_every_installed_template_has_a_recording() -> None:
    recorded = {_load(p)["source"] for p in TEMPLATES}
    assert recorded == {p.name for p in template_files()}
    assert len(recorded) > 150


def test_node_layouts_equal_the_frontend_for_every_class(
    object_info: dict[str, Any], catalog: NodeCatalog
) -> None:
    recorded = _load(LAYOUTS)["layouts"]
    assert set(object_info) <= set(recorded)
    for class_type in object_info:
        layout = catalog.layout(class_type)
        frontend = recorded[class_type]
        assert layout.title == frontend["title"], class_type
        assert [[s.name, s.type, s.widget] for s in layout.sockets] == frontend["inputs"], (
            class_type
        )
        widgets = [
            {
                "name": w.name,
                "consumes_value": w.consumes_value,
                "in_prompt": w.in_prompt,
                "dynamic_prompts": w.dynamic_prompts,
                "value": w.default,
            }
            for w in layout.widgets
        ]
        assert widgets == frontend["widgets"], class_type


# -- equality with the frontend ----------------------------------------------------------------


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name.removesuffix(".api.json"))
def test_template_converts_as_the_frontend_does(path: Path, catalog: NodeCatalog) -> None:
    recording = _load(path)
    if recording["missing_node_types"]:
        # The frontend sends such nodes without a class_type, which ComfyUI refuses
        # (invalid_prompt); the converter refuses at once and names the node.
        assert any("class_type" not in node for node in recording["output"].values())
        with pytest.raises(ConversionError) as caught:
            _convert_recorded("templates", recording, catalog)
        assert caught.value.reason == "unknown_node_type"
        assert caught.value.node_type in recording["missing_node_types"]
        return
    assert _convert_recorded("templates", recording, catalog) == recording["output"]


@pytest.mark.parametrize("path", TRAPS, ids=lambda p: p.name.removesuffix(".api.json"))
def test_trap_converts_as_the_frontend_does(path: Path, catalog: NodeCatalog) -> None:
    recording = _load(path)
    assert _convert_recorded("traps", recording, catalog) == recording["output"]


# -- the traps, spelled out --------------------------------------------------------------------


def test_control_after_generate_value_is_not_read_as_the_seed(catalog: NodeCatalog) -> None:
    prompt = _trap("control-value-is-not-the-seed", catalog)
    assert prompt["5"]["inputs"]["seed"] == 42
    assert prompt["5"]["inputs"]["steps"] == 20
    assert "control_after_generate" not in prompt["5"]["inputs"]
    # An old file stored `true` for the control; "sample_euler" is renamed on load.
    assert prompt["6"]["inputs"]["noise_seed"] == 7
    assert prompt["6"]["inputs"]["sampler_name"] == "euler"
    assert prompt["7"]["inputs"] == {"noise_seed": 123456789012345}


def test_linked_widgets_and_link_only_inputs_keep_value_positions(catalog: NodeCatalog) -> None:
    prompt = _trap("linked-widgets-keep-positions", catalog)
    sampler = prompt["2"]["inputs"]
    assert sampler["seed"] == ["1", 0]
    assert (sampler["steps"], sampler["cfg"], sampler["denoise"]) == (30, 6.5, 0.8)
    assert prompt["4"]["inputs"] == {
        "upscale_method": "nearest-exact",
        "width": ["5", 0],
        "height": 768,
        "crop": "disabled",
        "image": ["3", 0],
    }
    assert prompt["6"]["inputs"]["image"] == "example.png"  # empty file falls back
    assert prompt["7"]["inputs"]["image"] == "render.png [output]"
    assert prompt["8"]["inputs"]["image"] == "already.png [temp]"


def test_a_seed_without_control_slot_takes_the_next_value_as_is(catalog: NodeCatalog) -> None:
    prompt = _trap("seed-without-control-slot", catalog)
    assert prompt["1"]["inputs"]["seed"] == 77
    assert prompt["1"]["inputs"]["steps"] == 60
    # An old KSampler file without the control value shifts, exactly as in the editor.
    assert prompt["2"]["inputs"]["seed"] == 42
    assert prompt["2"]["inputs"]["steps"] == 8


def test_list_values_are_wrapped_never_read_as_links(catalog: NodeCatalog) -> None:
    prompt = _trap("list-values-are-not-links", catalog)
    assert prompt["1"]["inputs"]["text"] == "4,0"  # a text box holds text
    assert prompt["5"]["inputs"]["value"] == {"__value__": ["1", 0]}
    assert prompt["6"]["inputs"]["width"] == {"__value__": [8, 9]}
    assert prompt["3"]["inputs"]["text"] == ""  # a dict of values is not applied


def test_reroute_and_bypass_chains_collapse_to_the_real_source(catalog: NodeCatalog) -> None:
    prompt = _trap("reroute-and-bypass-chains", catalog)
    assert prompt["6"]["inputs"]["images"] == ["1", 0]
    assert "images" not in prompt["8"]["inputs"]  # bypassed node with no matching input
    assert "images" not in prompt["10"]["inputs"]  # fed by a muted node
    assert prompt["12"]["inputs"]["images"] == ["1", 0]  # through an unknown bypassed node
    assert "images" not in prompt["14"]["inputs"]
    assert "mask" not in prompt["16"]["inputs"]  # IMAGE -> MASK: no input of the type to pass
    kinds = {node["class_type"] for node in prompt.values()}
    assert not kinds & {"Reroute", "Note", "MarkdownNote", "NotInstalledNode", "ImageBlur"}


def test_bypassed_nodes_pass_through_only_the_input_that_fits(catalog: NodeCatalog) -> None:
    prompt = _trap("bypass-type-matching", catalog)
    assert prompt["4"]["inputs"]["source"] == ["1", 0]  # any-type pin: the same slot
    assert "images" not in prompt["6"]["inputs"]  # slot 0 fits but is not linked
    assert "images" not in prompt["8"]["inputs"]  # no IMAGE input on a VAEDecode
    assert "positive" not in prompt["12"]["inputs"]  # passes to a bypassed text encoder
    assert prompt["12"]["inputs"]["negative"] == ["10", 0]
    assert prompt["15"]["inputs"] == {"image1": ["1", 0], "image3": ["1", 0]}  # extra input


def test_primitive_nodes_write_their_value_into_every_target(catalog: NodeCatalog) -> None:
    prompt = _trap("primitive-nodes", catalog, random=random.Random(1).random)
    assert prompt["2"]["inputs"]["seed"] == 777
    assert prompt["3"]["inputs"]["seed"] == 777
    assert prompt["3"]["inputs"]["sampler_name"] == "euler_ancestral"
    # A PrimitiveNode feeding a forceInput pin reaches nothing (the frontend drops it).
    assert "steps" not in prompt["5"]["inputs"]
    assert prompt["7"]["inputs"]["text"] in ("a cat from a primitive", "a dog from a primitive")
    assert (
        prompt["10"]["inputs"]["filename_prefix"] == "runs/2025-10-11/777"
    )  # after the seed primitive
    assert "PrimitiveNode" not in {node["class_type"] for node in prompt.values()}


def test_nested_subgraphs_expand_with_the_frontend_ids(catalog: NodeCatalog) -> None:
    prompt = _trap("nested-subgraphs", catalog)
    assert {"2:10:1", "2:10:2", "2:11", "3:1", "3:2", "5:1", "5:2"} <= set(prompt)
    assert prompt["6"]["inputs"]["positive"] == ["2:10:1", 0]
    assert prompt["6"]["inputs"]["negative"] == ["3:1", 0]
    # One subgraph input with two links feeds both inner nodes from the outer link...
    assert prompt["5:1"]["inputs"]["text"] == prompt["5:2"]["inputs"]["text"] == ["4", 0]
    # ...and instances of one subgraph share their promoted values (the frontend's model).
    assert prompt["2:10:1"]["inputs"]["text"] == "stale: linked from outside"
    assert prompt["2:11"]["inputs"] == {}  # its input came from a muted inner node


def test_muted_or_bypassed_subgraph_instances_still_run_their_inner_nodes(
    catalog: NodeCatalog,
) -> None:
    # The frontend mutes or bypasses the instance, not what it contains.
    prompt = _trap("subgraph-instance-modes", catalog)
    assert prompt["3"]["inputs"]["images"] == ["2:1", 0]
    assert prompt["5"]["inputs"]["images"] == ["1", 0]  # bypassed: passed through
    assert prompt["7"]["inputs"]["images"] == ["6:1", 0]  # muted: still wired inside
    # A PrimitiveNode inside a subgraph writes through the root graph's link of the same id
    # (here one into a socket without a widget): the inner text keeps its own value.
    assert prompt["2:3"]["inputs"]["text"] == "stale inner text"


def test_dynamic_prompts_are_resolved_with_the_given_draws(catalog: NodeCatalog) -> None:
    first = _trap("dynamic-prompts", catalog, random=random.Random(5).random)
    again = _trap("dynamic-prompts", catalog, random=random.Random(5).random)
    assert first == again
    texts = [first[str(i)]["inputs"]["text"] for i in range(1, 7)]
    assert all("{" not in t.replace("{not a choice}", "") for t in texts)
    assert "a comment" not in texts[0]
    assert "block" not in texts[0]
    assert texts[1].startswith("see http:")  # `//` starts a comment, as in the frontend
    assert texts[2] == "only"
    assert texts[3] == "trailing backslash \\undefined"
    assert texts[4] == "no choices at all"
    assert first["7"]["inputs"]["filename_prefix"] == "{not|dynamic}"


def test_file_name_prefixes_get_dates_and_widget_values(catalog: NodeCatalog) -> None:
    prompt = _trap("filename-prefix-replacements", catalog)
    assert prompt["4"]["inputs"]["filename_prefix"] == (
        "out/2025-10-11_12-34-56/25-10-11 12:34:56_42_832_a_b_c_d_%Missing.x%_%width%"
        "_%KSampler.nope%"
    )
    assert prompt["5"]["inputs"]["filename_prefix"] == "2025/anim"


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason", "node_id", "frontend"),
    [
        ("refuse-link-from-missing-node", "missing_link_origin", "1", "InvalidLinkError"),
        ("refuse-missing-link-record", "missing_link", "1", "InvalidLinkError"),
        ("refuse-bypass-cycle", "cycle", "2", "RecursionError"),
        ("refuse-file-prefix-not-text", "invalid_widget_value", "1", "TypeError"),
        ("refuse-primitive-in-subgraph", "primitive_in_subgraph", "2:2", "TypeError"),
        ("refuse-unknown-node-type", "unknown_node_type", "2", None),
        ("refuse-cycle", "cycle", "1", None),
    ],
)
def test_graphs_that_cannot_run_are_refused_naming_the_node(
    catalog: NodeCatalog, name: str, reason: str, node_id: str, frontend: str | None
) -> None:
    recording = _recorded(name)
    if frontend is not None:
        assert recording["error"]["name"] == frontend
    else:
        # The frontend sends these; ComfyUI then refuses them (no class_type, or a loop).
        assert "output" in recording
    with pytest.raises(ConversionError) as caught:
        _trap(name, catalog)
    error = caught.value
    assert (error.reason, error.node_id) == (reason, node_id)
    assert error.http_status == 422
    assert error.details["node_id"] == node_id
    assert f"node {node_id}" in error.message


def test_nodes_that_need_a_browser_are_refused(catalog: NodeCatalog) -> None:
    workflow = {
        "nodes": [{"id": 3, "type": "WebcamCapture", "mode": 0, "widgets_values": []}],
        "links": [],
    }
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, catalog)
    assert (caught.value.reason, caught.value.node_type) == ("needs_browser", "WebcamCapture")


@pytest.mark.parametrize(
    "workflow",
    [
        {},
        {"nodes": "x"},
        {"nodes": [{"type": "SaveImage"}]},
        {"nodes": [{"id": 1}]},
        {"nodes": [], "links": [[1, 2]]},
        {"nodes": [], "links": [[1, 2, "a", 3, 0, "IMAGE"]]},
    ],
)
def test_malformed_workflows_are_refused_clearly(
    catalog: NodeCatalog, workflow: dict[str, Any]
) -> None:
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, catalog)
    assert caught.value.reason == "invalid_workflow"


def test_legacy_group_nodes_are_refused_with_a_way_out(catalog: NodeCatalog) -> None:
    workflow = {
        "nodes": [{"id": 4, "type": "workflow>Upscale", "mode": 0}],
        "links": [],
        "extra": {"groupNodes": {"Upscale": {"nodes": [], "links": []}}},
    }
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, catalog)
    assert caught.value.reason == "group_node_unsupported"
    assert "subgraph" in caught.value.message


def test_a_subgraph_that_contains_itself_is_refused(catalog: NodeCatalog) -> None:
    loop = "33333333-3333-4333-8333-333333333333"
    definition = {"id": loop, "name": "loop", "inputs": [], "outputs": [], "links": []}
    definition["nodes"] = [{"id": 1, "type": loop, "mode": 0}]
    workflow = {
        "nodes": [{"id": 9, "type": loop, "mode": 0}],
        "links": [],
        "definitions": {"subgraphs": [definition]},
    }
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, catalog)
    assert caught.value.reason == "cycle"


def _reroute_chain(length: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": 1,
            "type": "LoadImage",
            "mode": 0,
            "widgets_values": ["example.png", "image"],
            "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
        },
    ]
    links = []
    for index in range(2, length + 2):
        nodes.append(
            {
                "id": index,
                "type": "Reroute",
                "mode": 0,
                "inputs": [{"name": "", "type": "*", "link": index - 1}],
                "outputs": [{"name": "", "type": "IMAGE", "links": [index]}],
            }
        )
        links.append([index - 1, index - 1, 0, index, 0, "IMAGE"])
    save = length + 2
    nodes.append(
        {
            "id": save,
            "type": "SaveImage",
            "mode": 0,
            "widgets_values": ["x"],
            "inputs": [{"name": "images", "type": "IMAGE", "link": save - 1}],
        }
    )
    links.append([save - 1, save - 1, 0, save, 0, "IMAGE"])
    return {"nodes": nodes, "links": links}


def test_long_reroute_chains_convert_and_endless_ones_are_refused(catalog: NodeCatalog) -> None:
    prompt = ui_to_api(_reroute_chain(100), catalog)
    assert prompt["102"]["inputs"]["images"] == ["1", 0]
    with pytest.raises(ConversionError) as caught:
        ui_to_api(_reroute_chain(5000), catalog)
    assert caught.value.reason == "too_large"


def test_subgraphs_that_multiply_past_the_limit_are_refused(catalog: NodeCatalog) -> None:
    definitions = []
    for level in range(6):  # 10 instances of the next level at each level: 10^6 nodes
        inner = f"00000000-0000-4000-8000-00000000000{level + 1}" if level < 5 else None
        nodes = [{"id": i, "type": inner or "ImageInvert", "mode": 0} for i in range(1, 11)]
        definitions.append(
            {
                "id": f"00000000-0000-4000-8000-00000000000{level}",
                "name": f"level {level}",
                "inputs": [],
                "outputs": [],
                "links": [],
                "nodes": nodes,
            }
        )
    workflow = {
        "nodes": [{"id": 1, "type": definitions[0]["id"], "mode": 0}],
        "links": [],
        "definitions": {"subgraphs": definitions},
    }
    with pytest.raises(ConversionError) as caught:
        ui_to_api(workflow, catalog)
    assert caught.value.reason == "too_large"


# -- queue-time widget values ------------------------------------------------------------------


def test_dynamic_prompt_choice_follows_the_draw() -> None:
    assert resolve_dynamic_prompt("{a|b|c}", lambda: 0.0) == "a"
    assert resolve_dynamic_prompt("{a|b|c}", lambda: 0.5) == "b"
    assert resolve_dynamic_prompt("{a|b|c}", lambda: 0.99) == "c"
    assert resolve_dynamic_prompt(r"x \{a|b\} y", lambda: 0.0) == "x {a|b} y"
    assert resolve_dynamic_prompt("keep /* not */this // gone\nnext", lambda: 0.0) == (
        "keep this \nnext"
    )


def test_date_tokens_follow_the_frontend() -> None:
    assert format_date("yyyy-MM-dd hh:mm:ss", RECORDED_AT) == "2025-10-11 12:34:56"
    assert format_date("yy/M/d h.m.s yyy", RECORDED_AT.replace(month=3, day=4)) == (
        "25/3/4 12.34.56 yyy"
    )
    assert apply_text_replacements("%date:yyyy%", [], RECORDED_AT) == "2025"
