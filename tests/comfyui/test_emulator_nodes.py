"""The emulator's node definitions, model lists and custom-node extension point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.emulators.comfyui import ComfyUIConfig, ComfyUIEmulator, NodeType, core_nodes
from comfyhangar.emulators.comfyui.graph import ExecutionList
from comfyhangar.emulators.comfyui.images import encode_png
from tests.comfyui.support import emulator_server
from tests.comfyui.transcripts import SHARED_FIXTURES, fixture_prompt

SNAPSHOT = SHARED_FIXTURES / "object_info-0.3.64.json"


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    if not SNAPSHOT.exists():
        pytest.skip("../shared/fixtures/comfyui/object_info-0.3.64.json is absent")
    loaded: dict[str, Any] = json.loads(SNAPSHOT.read_text())
    return loaded


def snapshot_pod(root: Path) -> ComfyUIEmulator:
    """An emulator with what the snapshot's server had: no models, input/example.png."""
    (root / "input").mkdir(parents=True)
    (root / "input" / "example.png").write_bytes(encode_png(8, 8, (0, 0, 0), (0, 0, 0)))
    return ComfyUIEmulator(ComfyUIConfig(root=root))


def test_every_definition_equals_real_comfyui(snapshot: dict[str, Any], tmp_path: Path) -> None:
    emu = snapshot_pod(tmp_path)
    assert len(emu.nodes) >= 50
    for name in emu.nodes:
        assert emu.definition(name) == snapshot[name], name


def test_v3_nodes_are_the_ones_real_comfyui_reports_as_v3(snapshot: dict[str, Any]) -> None:
    # ComfyUI's V3 schema adds `api_node` (and `deprecated`, `experimental`) to every entry.
    for name, node in core_nodes().items():
        assert node.v3 == ("api_node" in snapshot[name]), name


async def test_model_lists_are_the_pods_model_files(tmp_path: Path) -> None:
    config = ComfyUIConfig(
        root=tmp_path,
        models={
            "checkpoints": ["b.safetensors", "a.ckpt", "readme.md", "sdxl/base.safetensors"],
            "unet": ["flux1-dev.safetensors"],  # the legacy folder name
            "vae_approx": ["taesd_decoder.pth", "taesd_encoder.pth", "taesdxl_decoder.pth"],
        },
    )
    async with emulator_server(config) as running, httpx.AsyncClient(base_url=running.base_url) as http:  # fmt: skip
        info = (await http.get("/object_info/CheckpointLoaderSimple")).json()
        names = info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
        assert names == ["a.ckpt", "b.safetensors", "sdxl/base.safetensors"]
        unet = (await http.get("/object_info/UNETLoader")).json()["UNETLoader"]
        assert unet["input"]["required"]["unet_name"][0] == ["flux1-dev.safetensors"]
        vae = (await http.get("/object_info/VAELoader")).json()["VAELoader"]
        assert vae["input"]["required"]["vae_name"][0] == ["taesd", "pixel_space"]
        assert (await http.get("/models/diffusion_models")).json() == ["flux1-dev.safetensors"]

        running.emu.add_model("loras", "detail.safetensors")  # the agent downloaded one more
        lora = (await http.get("/object_info/LoraLoaderModelOnly")).json()["LoraLoaderModelOnly"]
        assert lora["input"]["required"]["lora_name"][0] == ["detail.safetensors"]


CUSTOM = NodeType(
    {
        "input": {
            "required": {
                "image": ["IMAGE"],
                "strength": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 2.0}],
            }
        },
        "input_order": {"required": ["image", "strength"]},
        "output": ["IMAGE", "STRING"],
        "output_is_list": [False, False],
        "output_name": ["IMAGE", "caption"],
        "name": "AcmeGlow",
        "display_name": "Acme glow",
        "description": "",
        "python_module": "custom_nodes.acme-nodes",
        "category": "acme",
        "output_node": False,
    }
)


async def test_a_pods_custom_nodes_are_listed_validated_and_run(tmp_path: Path) -> None:
    config = ComfyUIConfig(root=tmp_path, extra_nodes=(CUSTOM,))
    async with emulator_server(config) as running, httpx.AsyncClient(base_url=running.base_url) as http:  # fmt: skip
        listed = (await http.get("/object_info/AcmeGlow")).json()
        assert listed == {"AcmeGlow": CUSTOM.definition}
        prompt = {
            "1": {
                "class_type": "EmptyImage",
                "inputs": {"width": 40, "height": 20, "batch_size": 1, "color": 255},
            },
            "2": {"class_type": "AcmeGlow", "inputs": {"image": ["1", 0], "strength": 3.0}},
            "3": {
                "class_type": "SaveImage",
                "inputs": {"images": ["2", 0], "filename_prefix": "glow"},
            },
        }
        refused = await http.post("/prompt", json={"prompt": prompt})
        assert refused.status_code == 400
        error = refused.json()["node_errors"]["2"]["errors"][0]
        assert error["type"] == "value_bigger_than_max"

        prompt["2"]["inputs"]["strength"] = 1.5
        queued = (await http.post("/prompt", json={"prompt": prompt, "prompt_id": "glow-1"})).json()
        assert queued["node_errors"] == {}
        while not (history := (await http.get("/history/glow-1")).json()):
            await running.driver.tick()
        images = history["glow-1"]["outputs"]["3"]["images"]
        assert images == [{"filename": "glow_00001_.png", "subfolder": "", "type": "output"}]
        assert (tmp_path / "output" / "glow_00001_.png").read_bytes()[16:24] == (40).to_bytes(4, "big") + (20).to_bytes(4, "big")  # fmt: skip


def test_a_core_class_cannot_be_replaced_by_a_custom_node(tmp_path: Path) -> None:
    fake = NodeType({**CUSTOM.definition, "name": "SaveImage"})
    emu = ComfyUIEmulator(ComfyUIConfig(root=tmp_path, extra_nodes=(fake,)))
    assert emu.nodes["SaveImage"].definition["category"] == "image"


def test_multi_output_prompt_runs_in_comfyuis_order() -> None:
    # The order the shared reference saw for prompt 02 (outputs taken in prompt order).
    prompt = fixture_prompt("02-mask-blend-multi-output.api.json")
    nodes = core_nodes()
    order = ExecutionList(prompt, nodes.get, lambda _: False)
    for node_id in ("7", "8", "9"):
        order.add_node(node_id)
    ran = []
    while not order.empty():
        node_id = order.next_node()
        ran.append(node_id)
        order.done(node_id)
    assert ran == ["1", "2", "3", "4", "5", "8", "9", "6", "7"]
