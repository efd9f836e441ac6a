"""The emulator's node definitions, model lists and custom-node extension point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.comfyui import ComfyUIClient
from comfyhangar.comfyui.events import Event, Preview, Progress
from comfyhangar.emulators.comfyui import ComfyUIConfig, ComfyUIEmulator, NodeType, core_nodes
from comfyhangar.emulators.comfyui.graph import ExecutionList
from comfyhangar.emulators.comfyui.images import encode_png, image_size, png_edges
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


def _n(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}


def sd15_txt2img(seed: int) -> dict[str, Any]:
    """The classic graph of ComfyUI's default workflow, in API form."""
    return {
        "4": _n("CheckpointLoaderSimple", ckpt_name="v1-5-pruned-emaonly.safetensors"),
        "5": _n("EmptyLatentImage", width=512, height=768, batch_size=2),
        "6": _n("CLIPTextEncode", text="a red fox in the snow", clip=["4", 1]),
        "7": _n("CLIPTextEncode", text="blurry", clip=["4", 1]),
        "3": _n(
            "KSampler",
            model=["4", 0],
            seed=seed,
            steps=6,
            cfg=8,
            sampler_name="euler",
            scheduler="normal",
            positive=["6", 0],
            negative=["7", 0],
            latent_image=["5", 0],
            denoise=1,
        ),
        "8": _n("VAEDecode", samples=["3", 0], vae=["4", 2]),
        "9": _n("SaveImage", filename_prefix="ComfyUI", images=["8", 0]),
    }


def flux_dev(seed: int) -> dict[str, Any]:
    """Flux dev with separate model files and the custom sampler nodes."""
    return {
        "1": _n("UNETLoader", unet_name="flux1-dev.safetensors", weight_dtype="default"),
        "2": _n(
            "DualCLIPLoader",
            clip_name1="clip_l.safetensors",
            clip_name2="t5xxl_fp16.safetensors",
            type="flux",
        ),
        "3": _n("VAELoader", vae_name="ae.safetensors"),
        "4": _n("CLIPTextEncode", text="a lighthouse at dawn", clip=["2", 0]),
        "5": _n("FluxGuidance", conditioning=["4", 0], guidance=3.5),
        "6": _n("BasicGuider", model=["1", 0], conditioning=["5", 0]),
        "7": _n("KSamplerSelect", sampler_name="euler"),
        "8": _n("BasicScheduler", model=["1", 0], scheduler="simple", steps=4, denoise=1.0),
        "9": _n("RandomNoise", noise_seed=seed),
        "10": _n("EmptySD3LatentImage", width=1024, height=1024, batch_size=1),
        "11": _n(
            "SamplerCustomAdvanced",
            noise=["9", 0],
            guider=["6", 0],
            sampler=["7", 0],
            sigmas=["8", 0],
            latent_image=["10", 0],
        ),
        "12": _n("VAEDecode", samples=["11", 0], vae=["3", 0]),
        "13": _n("SaveImage", filename_prefix="flux/dev", images=["12", 0]),
    }


MODELS = {
    "checkpoints": ["v1-5-pruned-emaonly.safetensors"],
    "diffusion_models": ["flux1-dev.safetensors"],
    "text_encoders": ["clip_l.safetensors", "t5xxl_fp16.safetensors"],
    "vae": ["ae.safetensors"],
}


@pytest.mark.parametrize(
    ("graph", "steps", "size", "batch"),
    [(sd15_txt2img, 6, (512, 768), 2), (flux_dev, 4, (1024, 1024), 1)],
)
async def test_txt2img_graphs_sample_with_previews_and_save_images(
    graph: Any, steps: int, size: tuple[int, int], batch: int, tmp_path: Path
) -> None:
    config = ComfyUIConfig(root=tmp_path, models=MODELS, preview_method="auto")
    seen: list[Event] = []

    async def keep(event: Event) -> None:
        seen.append(event)

    async with emulator_server(config, speed=200) as running, ComfyUIClient(running.base_url) as comfy:  # fmt: skip
        first = await comfy.run(graph(1), prompt_id="seed-1", on_event=keep)
        second = await comfy.run(graph(2), prompt_id="seed-2")
    assert [(e.value, e.max) for e in seen if isinstance(e, Progress)] == [(i, steps) for i in range(1, steps + 1)]  # fmt: skip
    previews = [e for e in seen if isinstance(e, Preview)]
    assert len(previews) == steps
    assert image_size(previews[-1].data) == (round(size[0] * 512 / max(size)), round(size[1] * 512 / max(size)))  # fmt: skip
    assert len(first.files) == batch
    colours = []
    for result in (first, second):
        file = result.files[0]
        data = (tmp_path / "output" / file.subfolder / file.filename).read_bytes()
        assert image_size(data) == size
        colours.append(png_edges(data))
    assert colours[0] != colours[1]  # another seed, another image


async def test_system_stats_has_comfyuis_keys(tmp_path: Path) -> None:
    async with emulator_server(ComfyUIConfig(root=tmp_path)) as running, httpx.AsyncClient(base_url=running.base_url) as http:  # fmt: skip
        stats = (await http.get("/system_stats")).json()
    assert set(stats["system"]) == {
        "os", "ram_total", "ram_free", "comfyui_version", "required_frontend_version",
        "installed_templates_version", "required_templates_version", "python_version",
        "pytorch_version", "embedded_python", "argv",
    }  # fmt: skip
    assert set(stats["devices"][0]) == {"name", "type", "index", "vram_total", "vram_free", "torch_vram_total", "torch_vram_free"}  # fmt: skip
    assert stats["system"]["comfyui_version"] == "0.3.64"
