"""A ComfyHangar server and an emulated ComfyUI on real ports, registered as a run target."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from comfyhangar.emulators.comfyui import ComfyUIConfig
from tests.comfyui.support import RunningEmulator, emulator_server
from tests.server.conftest import Hangar, fast_settings, running_hangar

CHECKPOINT = "v1-5-pruned-emaonly.safetensors"
TERMINAL = {"succeeded", "failed", "cancelled"}
SPEED = 50.0


def _n(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}


def txt2img(seed: int = 1, steps: int = 4, checkpoint: str = CHECKPOINT) -> dict[str, Any]:
    """ComfyUI's default graph in API form (two 512x768 images per run)."""
    return {
        "4": _n("CheckpointLoaderSimple", ckpt_name=checkpoint),
        "5": _n("EmptyLatentImage", width=512, height=768, batch_size=2),
        "6": _n("CLIPTextEncode", text="a red fox in the snow", clip=["4", 1]),
        "7": _n("CLIPTextEncode", text="blurry", clip=["4", 1]),
        "3": _n(
            "KSampler",
            model=["4", 0],
            seed=seed,
            steps=steps,
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


@dataclass
class World:
    hangar: Hangar
    comfy: RunningEmulator
    server_id: str

    @property
    def http(self) -> Any:
        return self.hangar.http

    async def add_workflow(self, name: str, document: Any, **fields: str) -> dict[str, Any]:
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        response = await self.http.post(
            "/api/v1/workflows",
            files={"file": ("workflow.json", data)},
            data={"name": name, **fields},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def run(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post("/api/v1/runs", json={"server_id": self.server_id, **body})
        assert response.status_code == 201, response.text
        batch: dict[str, Any] = response.json()
        return batch

    async def wait_runs(
        self, ids: list[str], states: set[str] = TERMINAL, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """Poll until every run is in one of `states`."""
        views: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while True:
                views = [(await self.http.get(f"/api/v1/runs/{i}")).json() for i in ids]
                if all(v["state"] in states for v in views):
                    return views
                await asyncio.sleep(0.05)
        raise AssertionError(views)  # pragma: no cover


def pod_config(root: Path) -> ComfyUIConfig:
    return ComfyUIConfig(root=root, models={"checkpoints": [CHECKPOINT]})


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = fast_settings(tmp_path / "hangar", lease_s=3.0)
    async with (
        emulator_server(pod_config(tmp_path / "pod"), speed=SPEED) as comfy,
        running_hangar(settings) as hangar,
    ):
        response = await hangar.http.post(
            "/api/v1/comfyui-servers",
            json={
                "name": "local-emu",
                "url": comfy.base_url,
                "auth_header_name": "X-Test",
                "auth_header_value": "s3cret-header-value",
            },
        )
        assert response.status_code == 201, response.text
        yield World(hangar, comfy, response.json()["id"])
