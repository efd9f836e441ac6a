"""Input images: uploaded to the target's ComfyUI, then named by a run's override."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from comfyhangar.emulators.comfyui.images import encode_png
from tests.cli.conftest import Cli
from tests.runs.conftest import World


def load_and_save(image: str) -> dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": image}},
        "2": {"class_type": "SaveImage", "inputs": {"filename_prefix": "in", "images": ["1", 0]}},
    }


async def test_an_uploaded_image_feeds_a_run(world: World, tmp_path: Path) -> None:
    missing = await world.http.post(
        "/api/v1/runs", json={"server_id": world.server_id, "prompt": load_and_save("cat.png")}
    )
    assert missing.status_code == 422
    [problem] = missing.json()["problems"]
    assert (problem["reason"], problem["node_id"], problem["input"], problem["value"]) == (
        "missing_file",
        "1",
        "image",
        "cat.png",
    )

    png = encode_png(300, 200, (0.2, 0.4, 0.6), (0.9, 0.1, 0.1))
    uploaded = await world.http.post(
        "/api/v1/input-files",
        files={"file": ("cat.png", png)},
        data={"server_id": world.server_id},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["reference"] == "cat.png"
    assert (world.comfy.emu.config.root / "input" / "cat.png").read_bytes() == png

    workflow = await world.add_workflow("load", load_and_save("example.png"))
    batch = await world.run(workflow_id=workflow["id"], overrides={"1.image": "cat.png"})
    [view] = await world.wait_runs([batch["runs"][0]["id"]])
    assert view["state"] == "succeeded", view
    [output] = (await world.http.get("/api/v1/outputs")).json()["items"]
    assert (output["width"], output["height"]) == (300, 200)


async def test_the_cli_uploads_an_input_file(world: World, tmp_path: Path) -> None:
    source = tmp_path / "load.json"
    source.write_text(json.dumps(load_and_save("example.png")))
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode_png(64, 48, (0.1, 0.2, 0.3), (0.3, 0.2, 0.1)))
    cli = Cli(world.hangar.base_url, columns=80)
    assert (await cli("workflows", "add", str(source))).exit_code == 0
    out_dir = tmp_path / "out"
    ran = await cli(
        "run", "load", "--on", "local-emu", "--input", f"1.image={photo}", "--out", str(out_dir)
    )
    assert ran.exit_code == 0, ran.both
    [saved] = list(out_dir.iterdir())
    assert struct.unpack(">II", saved.read_bytes()[16:24]) == (64, 48)
