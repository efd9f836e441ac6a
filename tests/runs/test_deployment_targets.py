"""Deployments as run targets, in the embedded default: a simulated pod's ComfyUI (reached
through `comfyui_endpoint` alone) runs the workflow, and its images come home."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.comfyui.test_emulator_nodes import sd15_txt2img
from tests.runs.conftest import World
from tests.server.conftest import FLUX_DEPLOY, fast_settings, running_hangar

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
SDXL = "sd_xl_base_1.0.safetensors"


async def test_a_workflow_runs_on_a_simulated_deployment_and_its_images_come_home(
    tmp_path: Path,
) -> None:
    async with running_hangar(fast_settings(tmp_path, emulator_speed=50.0), timeout=20) as hangar:
        body = {**FLUX_DEPLOY, "name": "sdxl", "preset": "sdxl-base"}
        created = await hangar.http.post("/api/v1/deployments", json=body)
        assert created.status_code == 201, created.text
        dep_id = created.json()["id"]
        await hangar.wait_for(dep_id, "ready", timeout=60)
        world = World(hangar, None, "")  # type: ignore[arg-type]

        lacking = await hangar.http.post(
            "/api/v1/runs", json={"deployment_id": dep_id, "prompt": sd15_txt2img(1)}
        )
        assert lacking.status_code == 422, lacking.text
        [problem] = lacking.json()["problems"]
        assert (problem["reason"], problem["node_id"], problem["input"]) == (
            "missing_file",
            "4",
            "ckpt_name",
        )

        prompt = sd15_txt2img(1)
        prompt["4"]["inputs"]["ckpt_name"] = SDXL
        runs = await hangar.http.post(
            "/api/v1/runs",
            json={"deployment_id": dep_id, "prompt": prompt, "count": 2, "seed": 5},
        )
        assert runs.status_code == 201, runs.text
        views = await world.wait_runs([r["id"] for r in runs.json()["runs"]], timeout=120)
        assert [v["state"] for v in views] == ["succeeded", "succeeded"]
        assert {v["deployment_id"] for v in views} == {dep_id}
        outputs = (
            await hangar.http.get("/api/v1/outputs", params={"deployment_id": dep_id})
        ).json()
        assert outputs["total"] == 4  # two images a run
        first = outputs["items"][0]
        content = await hangar.http.get(first["url"])
        assert content.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert (first["width"], first["height"]) == (512, 768)

        # A run still going when its deployment stops fails at once, saying why.
        long = dict(prompt)
        long["3"] = {**prompt["3"], "inputs": {**prompt["3"]["inputs"], "steps": 10_000}}
        going = await hangar.http.post(
            "/api/v1/runs", json={"deployment_id": dep_id, "prompt": long}
        )
        going_id = going.json()["runs"][0]["id"]
        await world.wait_runs([going_id], {"running"}, timeout=60)
        stop = await hangar.http.post(f"/api/v1/deployments/{dep_id}/stop")
        assert stop.status_code == 202
        await hangar.wait_for(dep_id, "stopped", timeout=60)
        [ended] = await world.wait_runs([going_id], timeout=60)
        assert ended["state"] == "failed"
        assert ended["error"]["type"] == "target_gone"
        assert "stopping" in ended["error"]["message"] or "stopped" in ended["error"]["message"]
        refused = await hangar.http.post(
            "/api/v1/runs", json={"deployment_id": dep_id, "prompt": prompt}
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "target_not_ready"
        # The images stay after the pod is stopped (and would after it is gone).
        assert (await hangar.http.get(first["url"])).content == content.content
