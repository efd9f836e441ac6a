"""A running run's latest preview image, from ComfyUI's sampler previews."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.comfyui.support import emulator_server
from tests.runs.conftest import SPEED, World, pod_config, txt2img
from tests.server.conftest import fast_settings, running_hangar


async def test_the_latest_preview_is_served_while_the_run_runs(tmp_path: Path) -> None:
    async with (
        emulator_server(pod_config(tmp_path / "pod"), speed=SPEED, preview_method="auto") as comfy,
        running_hangar(fast_settings(tmp_path / "hangar")) as hangar,
    ):
        created = await hangar.http.post(
            "/api/v1/comfyui-servers", json={"name": "emu", "url": comfy.base_url}
        )
        world = World(hangar, comfy, created.json()["id"])
        batch = await world.run(prompt=txt2img(steps=5_000))
        run_id = batch["runs"][0]["id"]
        assert (await hangar.http.get(f"/api/v1/runs/{run_id}/preview")).status_code == 404
        async with asyncio.timeout(60):
            while (
                preview := await hangar.http.get(f"/api/v1/runs/{run_id}/preview")
            ).status_code != 200:
                await asyncio.sleep(0.05)
        assert preview.headers["content-type"] in ("image/jpeg", "image/png")
        assert preview.content[:2] in (b"\xff\xd8", b"\x89P")
        assert (await hangar.http.post(f"/api/v1/runs/{run_id}/cancel")).status_code == 200
        [view] = await world.wait_runs([run_id])
        assert view["state"] == "cancelled"
        gone = await hangar.http.get(f"/api/v1/runs/{run_id}/preview")
        assert gone.status_code == 404
        assert gone.json()["code"] == "not_found"
