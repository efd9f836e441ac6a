"""Runs end to end against an emulated ComfyUI registered as a server: queue, follow, outputs."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from pathlib import Path

import comfyui_workflow_templates

from tests.runs.conftest import CHECKPOINT, World, txt2img
from tests.support.auth import make_user


async def test_a_batch_runs_with_varied_seeds_and_its_images_come_home(world: World) -> None:
    workflow = await world.add_workflow("fox", txt2img(seed=7), tags="animals, test")
    keys = {i["key"]: i for i in workflow["inputs"]}
    assert keys["6.text"]["type"] == "STRING"
    assert keys["3.seed"]["default"] == 7
    assert keys["4.ckpt_name"]["type"] == "COMBO"
    assert "3.model" not in keys  # a link is not an input

    batch = await world.run(
        workflow_id=workflow["id"], overrides={"6.text": "a blue whale"}, seed=42, count=2
    )
    ids = [r["id"] for r in batch["runs"]]
    views = await world.wait_runs(ids)
    assert [v["state"] for v in views] == ["succeeded", "succeeded"]
    assert all(v["progress"]["percent"] == 100.0 for v in views)
    assert [v["workflow_version"] for v in views] == [1, 1]

    # Posted once each, with the override and the seeds varied as asked.
    assert world.comfy.emu.number == 2
    history = world.comfy.emu.queue
    posted = [history.history[v["prompt_id"]]["prompt"][2] for v in views]
    assert [p["3"]["inputs"]["seed"] for p in posted] == [42, 43]
    assert {p["6"]["inputs"]["text"] for p in posted} == {"a blue whale"}

    outputs = (
        await world.http.get("/api/v1/outputs", params={"batch_id": batch["batch_id"]})
    ).json()
    assert outputs["total"] == 4  # two images per run
    for item in outputs["items"]:
        assert (item["width"], item["height"]) == (512, 768)
        content = await world.http.get(item["url"])
        assert content.status_code == 200
        assert content.headers["content-type"] == "image/png"
        assert "sandbox" in content.headers["content-security-policy"]
        assert hashlib.sha256(content.content).hexdigest() == item["sha256"]
        assert len(content.content) == item["size"]
        assert struct.unpack(">II", content.content[16:24]) == (512, 768)
    zipped = await world.http.get(f"/api/v1/runs/{ids[0]}/outputs.zip")
    assert zipped.status_code == 200
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        names = archive.namelist()
        assert len(names) == 2
        assert all(name.startswith("9_") and name.endswith(".png") for name in names)
        assert archive.read(names[0])[:8] == b"\x89PNG\r\n\x1a\n"


async def test_the_editors_default_workflow_uploads_as_ui_and_runs(world: World) -> None:
    template = Path(comfyui_workflow_templates.__file__).parent / "templates" / "default.json"
    workflow = await world.add_workflow("default", template.read_bytes())
    assert workflow["versions"][0]["source_format"] == "ui"
    assert workflow["versions"][0]["has_api_prompt"]
    keys = {i["key"]: i for i in workflow["inputs"]}
    assert keys["3.seed"]["type"] == "INT"
    assert keys["6.text"]["type"] == "STRING"
    # A control_after_generate value ("randomize") is not an input of the prompt.
    assert all(i["default"] not in ("randomize", "fixed") for i in workflow["inputs"])

    batch = await world.run(
        workflow_id=workflow["id"],
        overrides={"4.ckpt_name": CHECKPOINT, "3.steps": 2, "6.text": "a lighthouse"},
        seed=9,
    )
    [view] = await world.wait_runs([batch["runs"][0]["id"]])
    assert view["state"] == "succeeded", view
    entry = world.comfy.emu.queue.history[view["prompt_id"]]
    assert entry["prompt"][2]["3"]["inputs"]["seed"] == 9
    assert entry["prompt"][2]["6"]["inputs"]["text"] == "a lighthouse"


async def test_a_run_belongs_to_who_started_it_and_members_list_their_own(world: World) -> None:
    mo = await make_user(world.http, "mo", "member")
    ann = await make_user(world.http, "ann", "member")
    started = await world.http.post(
        "/api/v1/runs",
        json={"server_id": world.server_id, "prompt": txt2img(seed=3)},
        headers=mo["headers"],
    )
    assert started.status_code == 201, started.text
    [run] = started.json()["runs"]
    await world.wait_runs([run["id"]])
    mine = (await world.http.get("/api/v1/runs", headers=mo["headers"])).json()
    assert [r["id"] for r in mine["items"]] == [run["id"]]
    assert (await world.http.get("/api/v1/runs", headers=ann["headers"])).json()["total"] == 0
    every = (await world.http.get("/api/v1/runs")).json()  # the admin's
    assert run["id"] in [r["id"] for r in every["items"]]
