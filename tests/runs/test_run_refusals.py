"""Bad input: a 4xx with a code and a message, and nothing stored or queued."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from comfyhangar.emulators.comfyui.images import encode_png
from tests.runs.conftest import World, txt2img

EMBEDDED = Path(__file__).parents[1] / "comfyui" / "fixtures" / "embedded"


async def _nothing_queued(world: World) -> None:
    runs = (await world.http.get("/api/v1/runs")).json()
    assert runs["total"] == 0
    assert world.comfy.emu.number == 0


async def _upload(world: World, data: bytes, name: str = "w") -> Any:
    return await world.http.post(
        "/api/v1/workflows", files={"file": ("f", data)}, data={"name": name}
    )


async def test_uploads_that_are_not_workflows_are_refused_with_their_reason(world: World) -> None:
    cases = [
        (b"{not json", "invalid_json"),
        (json.dumps({"hello": "world"}).encode(), "unknown_format"),
        (json.dumps([1, 2]).encode(), "unknown_format"),
        (encode_png(8, 8, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), "no_workflow_in_image"),
    ]
    for data, reason in cases:
        response = await _upload(world, data)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "invalid_workflow"
        assert body["reason"] == reason
        assert body["detail"]
    oversize = b"{" + b" " * (33 * 1024 * 1024) + b"}"
    response = await _upload(world, oversize)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert (await world.http.get("/api/v1/workflows")).json()["total"] == 0


async def test_a_png_that_comfyui_wrote_is_a_workflow(world: World) -> None:
    response = await _upload(world, (EMBEDDED / "comfyui-0.3.64-saveimage.png").read_bytes())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["versions"][0]["source_format"] == "ui"
    assert body["versions"][0]["has_api_prompt"]
    assert body["inputs"]
    document = (await world.http.get(f"/api/v1/workflows/{body['id']}/versions/1")).json()
    assert document["ui_graph"]["nodes"]
    assert all("class_type" in node for node in document["api_prompt"].values())


async def test_an_input_the_workflow_lacks_is_refused_before_anything_is_queued(
    world: World,
) -> None:
    workflow = await world.add_workflow("fox", txt2img())
    for key, value in (("99.text", "x"), ("6.nope", "x"), ("3.steps", "many")):
        response = await world.http.post(
            "/api/v1/runs",
            json={
                "server_id": world.server_id,
                "workflow_id": workflow["id"],
                "overrides": {key: value},
            },
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == f"overrides.{key}"
    await _nothing_queued(world)


async def test_a_model_file_or_node_the_target_lacks_is_named(world: World) -> None:
    prompt = txt2img(checkpoint="sd_xl_base_1.0.safetensors")
    response = await world.http.post(
        "/api/v1/runs", json={"server_id": world.server_id, "prompt": prompt}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "not_runnable_on_target"
    [problem] = body["problems"]
    assert problem["reason"] == "missing_file"
    assert (problem["node_id"], problem["input"], problem["value"]) == (
        "4",
        "ckpt_name",
        "sd_xl_base_1.0.safetensors",
    )
    assert "sd_xl_base_1.0.safetensors" in body["detail"]
    assert {"preset": "sdxl-base", "folder": "checkpoints"}.items() <= problem["provided_by"][
        0
    ].items()
    assert "sdxl-base" in problem["message"]

    custom = {**txt2img(), "10": {"class_type": "UpscaleWithMagic", "inputs": {}}}
    response = await world.http.post(
        "/api/v1/runs", json={"server_id": world.server_id, "prompt": custom}
    )
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["reason"], problem["node_id"]) == ("unknown_node_type", "10")
    await _nothing_queued(world)


async def test_the_servers_auth_header_value_is_never_shown(world: World) -> None:
    listed = await world.http.get("/api/v1/comfyui-servers")
    one = await world.http.get(f"/api/v1/comfyui-servers/{world.server_id}")
    batch = await world.run(prompt=txt2img())
    await world.wait_runs([r["id"] for r in batch["runs"]])
    runs = await world.http.get("/api/v1/runs")
    for response in (listed, one, runs):
        assert "s3cret-header-value" not in response.text
    assert one.json()["has_auth"] is True
    assert one.json()["auth_header_name"] == "X-Test"
