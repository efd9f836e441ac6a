"""Presets: listed with their models, nodes and sizes; a deployment names one and adds to it."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import FLUX_DEPLOY, Hangar

GB = 1_000_000_000


async def test_presets_list_models_nodes_and_total_size(hangar: Hangar) -> None:
    response = await hangar.http.get("/api/v1/presets")
    assert response.status_code == 200
    presets = {p["id"]: p for p in response.json()["presets"]}
    # The ungated sets come first: what a newcomer picks first deploys without a token.
    assert list(presets) == ["flux-schnell", "sdxl-base", "flux-seed", "flux-dev"]
    seed = presets["flux-seed"]
    names = {m["name"] for m in seed["models"]}
    assert {"clip_l.safetensors", "t5xxl_fp16.safetensors", "ae.safetensors"} <= names
    assert sum(m["folder"] == "loras" for m in seed["models"]) == 2
    big = max(seed["models"], key=lambda m: m["size"])
    assert 22 * GB < big["size"] < 25 * GB
    assert {n["name"] for n in seed["nodes"]} >= {"ComfyUI-Custom-Scripts"}
    assert len(seed["nodes"]) == 2
    for preset in presets.values():
        assert preset["total_bytes"] == sum(m["size"] for m in preset["models"])
        for model in preset["models"]:
            assert model["source"]["type"] == "huggingface"
    assert presets["flux-dev"]["needs_hf_token"] is True
    assert presets["flux-schnell"]["needs_hf_token"] is False
    assert presets["sdxl-base"]["needs_hf_token"] is False
    folders = response.json()["model_folders"]
    assert {"checkpoints", "loras", "vae", "text_encoders", "diffusion_models"} <= set(folders)
    assert all(m["folder"] in folders for p in presets.values() for m in p["models"])


async def test_a_deployment_names_a_preset_and_adds_to_it(hangar: Hangar) -> None:
    extra_model = {
        "folder": "upscale_models",
        "name": "4x-UltraSharp.pth",
        "source": {
            "type": "huggingface",
            "repo": "lokCX/4x-Ultrasharp",
            "file": "4x-UltraSharp.pth",
        },
    }
    extra_node = {"repo": "https://github.com/cubiq/ComfyUI_essentials", "ref": "main"}
    body: dict[str, Any] = {
        **FLUX_DEPLOY,
        "preset": "flux-schnell",
        "manifest": {"models": [extra_model], "custom_nodes": [extra_node]},
    }
    response = await hangar.http.post("/api/v1/deployments", json=body)
    assert response.status_code == 201, response.text
    dep = await hangar.runtime.deployments.get(response.json()["id"])
    manifest = dep.spec["manifest"]
    names = [m["name"] for m in manifest["models"]]
    assert "flux1-schnell.safetensors" in names
    assert names[-1] == "4x-UltraSharp.pth"
    repos = [n["repo"] for n in manifest["custom_nodes"]]
    assert repos[-1] == extra_node["repo"]
    assert any("ComfyUI-Custom-Scripts" in r for r in repos)


async def test_an_unknown_preset_or_a_bad_addition_is_a_422(hangar: Hangar) -> None:
    response = await hangar.http.post(
        "/api/v1/deployments", json={**FLUX_DEPLOY, "preset": "no-such-preset"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "preset"
    bad = {
        "folder": "loras",
        "name": "../x",
        "source": {"type": "url", "url": "https://civitai.com/x"},
    }
    response = await hangar.http.post(
        "/api/v1/deployments",
        json={**FLUX_DEPLOY, "preset": "sdxl-base", "manifest": {"models": [bad]}},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "manifest.models.0.name"
    assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []
