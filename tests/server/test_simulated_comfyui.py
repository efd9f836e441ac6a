"""Simulated pods serve ComfyUI: in the embedded default, a ready deployment's ComfyUI answers
on this machine through `comfyui_endpoint()`, behind the pod token, with the pod's own model
files and custom nodes, and keeps its inputs and outputs on the pod's disk (stop and start,
a server restart), until terminate takes them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from comfyhangar.comfyui import ComfyUIClient
from comfyhangar.comfyui.client import Retry
from comfyhangar.comfyui.errors import ComfyUIUnreachable, PromptRejected
from comfyhangar.comfyui.events import Event, ExecutionSuccess, Progress
from comfyhangar.emulators.comfyui.images import PNG_SIGNATURE, image_size, png_text
from comfyhangar.server.cloud import simulated_cloud_disks
from comfyhangar.server.services.comfyui_access import ComfyEndpoint
from tests.comfyui.test_emulator_nodes import sd15_txt2img
from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, running_hangar

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SPEED = 50.0  # simulated seconds per real second: the SDXL set (7.3 GB) "downloads" in 0.3 s
SDXL = "sd_xl_base_1.0.safetensors"
NO_RETRY = Retry(attempts=1, settle_s=0.0)


def sdxl_txt2img(seed: int) -> dict[str, Any]:
    """ComfyUI's default graph (the tests' own copy) on the checkpoint the SDXL preset brings."""
    prompt = sd15_txt2img(seed)
    prompt["4"]["inputs"]["ckpt_name"] = SDXL
    return prompt


@contextlib.asynccontextmanager
async def world(data_dir: Path) -> AsyncIterator[Hangar]:
    settings = fast_settings(data_dir, emulator_speed=SPEED)
    async with running_hangar(settings, timeout=20) as hangar:
        yield hangar


async def deploy_sdxl(hangar: Hangar) -> str:
    body = {**FLUX_DEPLOY, "name": "sdxl", "preset": "sdxl-base"}
    created = await hangar.http.post("/api/v1/deployments", json=body)
    assert created.status_code == 201, created.text
    dep_id: str = created.json()["id"]
    await hangar.wait_for(dep_id, "ready", timeout=60)
    return dep_id


async def endpoint(hangar: Hangar, dep_id: str) -> ComfyEndpoint:
    return await hangar.runtime.comfyui.comfyui_endpoint(
        await hangar.runtime.deployments.get(dep_id)
    )


async def action(hangar: Hangar, dep_id: str, name: str, state: str) -> None:
    response = await hangar.http.post(f"/api/v1/deployments/{dep_id}/{name}")
    assert response.status_code == 202, response.text
    await hangar.wait_for(dep_id, state, timeout=60)


async def view(comfy: ComfyUIClient, file: Any) -> bytes:
    async with comfy.open_output(file) as response:
        return await response.aread()


async def test_a_workflow_runs_end_to_end_on_a_simulated_pod_and_its_outputs_stay_on_the_volume(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as hangar:
        dep_id = await deploy_sdxl(hangar)
        where = await endpoint(hangar, dep_id)
        assert urlsplit(where.base_url).hostname == "127.0.0.1", "an address on this machine"
        (pod,) = hangar.emulator.pods
        assert where.headers == {"Authorization": f"Bearer {pod['env']['HANGAR_POD_TOKEN']}"}
        assert pod["env"]["HANGAR_POD_TOKEN"] not in repr(where)

        seen: list[Event] = []

        async def on_event(event: Event) -> None:
            seen.append(event)

        async with ComfyUIClient(where.base_url, headers=where.headers) as comfy:
            # The loaders list what the pod's setup put on its volume, and nothing else.
            info = await comfy.object_info(refresh=True)
            ckpts = info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
            assert ckpts == [SDXL]
            vaes = info["VAELoader"]["input"]["required"]["vae_name"][0]
            assert "sdxl_vae.safetensors" in vaes
            assert await comfy.models("custom_nodes") == ["ComfyUI-Custom-Scripts/__init__.py"]

            result = await comfy.run(sdxl_txt2img(7), prompt_id="sim-1", on_event=on_event)
            steps = [e for e in seen if isinstance(e, Progress) and e.node == "3"]
            assert [s.value for s in steps] == list(range(1, 7)), "one per sampler step"
            assert any(isinstance(e, ExecutionSuccess) for e in seen)
            assert len(result.files) == 2, "batch of 2"
            first = result.files[0]
            png = await view(comfy, first)
            assert png.startswith(PNG_SIGNATURE)
            assert image_size(png) == (512, 768)
            assert '"ckpt_name": "sd_xl_base_1.0.safetensors"' in png_text(png)["prompt"]

            # A workflow naming a file that is not on the pod fails validation, as ComfyUI's.
            with pytest.raises(PromptRejected) as refused:
                await comfy.submit(sd15_txt2img(7), prompt_id="sim-missing")
            errors = refused.value.node_errors["4"]["errors"]
            assert errors[0]["type"] == "value_not_in_list"
            assert "v1-5-pruned-emaonly.safetensors" in errors[0]["details"]

        # No token, a wrong one: refused, for HTTP and the WebSocket alike.
        async with httpx.AsyncClient() as http:
            bare = await http.get(f"{where.base_url}/api/system_stats")
            assert bare.status_code == 401
            wrong = {"Authorization": "Bearer " + "x" * 32}
            assert (await http.get(f"{where.base_url}/api/system_stats", headers=wrong)).status_code == 401  # fmt: skip
        ws_url = "ws" + where.base_url.removeprefix("http") + "/ws?clientId=abc"
        with pytest.raises(websockets.InvalidStatus) as denied:
            async with websockets.connect(ws_url):
                pass
        assert denied.value.response.status_code == 401

        # Stopped: the pod's ComfyUI does not answer (RunPod's proxy: 502).
        await action(hangar, dep_id, "stop", "stopped")
        async with httpx.AsyncClient(headers=where.headers) as http:
            down = await http.get(f"{where.base_url}/api/system_stats")
        assert down.status_code == 502
        async with ComfyUIClient(where.base_url, headers=where.headers, retry=NO_RETRY) as comfy:
            with pytest.raises(ComfyUIUnreachable):
                await view(comfy, first)

        # Started again: a fresh ComfyUI (no history) on the same volume, same outputs.
        await action(hangar, dep_id, "start", "ready")
        again = await endpoint(hangar, dep_id)
        async with ComfyUIClient(again.base_url, headers=again.headers) as comfy:
            assert await comfy.history("sim-1") is None
            assert await view(comfy, first) == png

    # A server restart: the simulated cloud and the pod's disk come back.
    async with world(tmp_path) as hangar:
        await hangar.wait_for(dep_id, "ready", timeout=30)
        where = await endpoint(hangar, dep_id)
        async with ComfyUIClient(where.base_url, headers=where.headers) as comfy:
            assert await view(comfy, first) == png

        # Terminate takes the pod's volume, outputs included.
        disks = simulated_cloud_disks(hangar.runtime.settings)
        assert list(disks.rglob(first.filename))
        deleted = await hangar.http.delete(f"/api/v1/deployments/{dep_id}")
        assert deleted.status_code == 202, deleted.text
        await hangar.wait_for(dep_id, "terminated", timeout=30)
        async with httpx.AsyncClient(headers=where.headers) as http:
            assert (await http.get(f"{where.base_url}/api/system_stats")).status_code == 502
        assert not list(disks.rglob(first.filename))


async def test_open_comfyui_lands_on_this_server_with_the_token_as_a_cookie(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as hangar:
        dep_id = await deploy_sdxl(hangar)
        opened = await hangar.http.get(f"/api/v1/deployments/{dep_id}/open")
        assert opened.status_code == 307
        link = opened.headers["location"]
        (pod,) = hangar.emulator.pods
        token = pod["env"]["HANGAR_POD_TOKEN"]
        assert link == f"/simulated-pods/{pod['id']}/comfyui/?token={token}"

        # The browser follows it on the dashboard's origin: the token becomes a cookie of the
        # pod's path and leaves the address bar.
        traded = await hangar.http.get(link)
        assert traded.status_code == 302
        assert traded.headers["location"] == f"/simulated-pods/{pod['id']}/comfyui/"
        cookie = traded.headers["set-cookie"]
        assert f"Path=/simulated-pods/{pod['id']}/comfyui/" in cookie
        assert "HttpOnly" in cookie
        # (The client keeps the cookie, as a browser does, and sends it on that path only.)
        page = await hangar.http.get(traded.headers["location"])
        assert page.status_code == 200
        assert "Simulated ComfyUI" in page.text
        # On the dashboard's origin, whatever the pods' ComfyUI serves runs in a sandbox.
        assert page.headers["content-security-policy"] == "sandbox"
        assert page.headers["x-content-type-options"] == "nosniff"
        stats = await hangar.http.get(f"/simulated-pods/{pod['id']}/comfyui/api/system_stats")
        assert stats.json()["system"]["comfyui_version"] == "0.3.64"
        assert "NVIDIA GeForce RTX 4090" in stats.json()["devices"][0]["name"]
        assert stats.json()["system"]["argv"][-2:] == ["--port", "18188"], "as the agent runs it"

        # ComfyUI's WebSocket answers on the server's port too (what a browser page uses).
        ws_url = "ws" + hangar.base_url.removeprefix("http")
        ws_url += f"/simulated-pods/{pod['id']}/comfyui/ws?clientId=page"
        cookie = {"Cookie": f"hangar_token={token}"}
        async with websockets.connect(ws_url, additional_headers=cookie) as ws:
            first = json.loads(await ws.recv())
        assert first["type"] == "status"
        assert first["data"]["sid"] == "page"

        # The Host check holds here as everywhere on the server (DNS rebinding).
        rebound = await hangar.http.get(link, headers={"Host": "evil.example"})
        assert rebound.status_code == 421
        # Without the token: refused.
        async with httpx.AsyncClient(base_url=hangar.base_url) as fresh:
            bare = await fresh.get(f"/simulated-pods/{pod['id']}/comfyui/api/queue")
        assert bare.status_code == 401


async def test_a_pod_still_setting_up_or_unknown_does_not_answer(tmp_path: Path) -> None:
    async with world(tmp_path) as hangar:
        body = {**FLUX_DEPLOY, "name": "early", "preset": "sdxl-base"}
        created = await hangar.http.post("/api/v1/deployments", json=body)
        dep_id = created.json()["id"]
        early = await hangar.http.get(f"/api/v1/deployments/{dep_id}/open")
        assert early.status_code == 409
        assert early.json()["code"] == "conflict"
        unknown = await hangar.http.get("/simulated-pods/nosuchpod/comfyui/")
        assert unknown.status_code == 502
        elsewhere = await hangar.http.get("/simulated-pods/")
        assert elsewhere.status_code == 404
        await hangar.wait_for(dep_id, "ready", timeout=60)  # leaves nothing half-made behind
