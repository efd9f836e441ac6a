"""The ComfyUI of simulated pods (`pod_comfyui.py`, `pod_proxy.py`): it answers once the pod's
setup started it, behind the agent's token rules, with the pod's own model files and custom
nodes, and its files live on the disk that holds `/workspace` (volume, network volume or
container disk), in the state directory across a restart of the emulator."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from comfyhangar.agent.pack import pod_launch
from comfyhangar.emulators.comfyui import NodeType
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.emulators.runpod.pod_comfyui import comfyui_path
from comfyhangar.server.loopback import serve_on_loopback
from tests.emulators.conftest import pod_body
from tests.emulators.simworld import SETUP, START, TO_RUNNING, VOLUME, act, hf, simulated_world

TOKEN = "pod-token-0123456789abcdef"
SMALL = [
    hf("org/small", "a.safetensors", "checkpoints", size=1000),
    hf("org/small", "b.safetensors", "loras", size=3000),
]
ACME = "https://github.com/acme/ComfyUI-Acme-Nodes"
ACME_NODE = NodeType(
    {
        "input": {"required": {"image": ["IMAGE"]}},
        "input_order": {"required": ["image"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "name": "AcmeSharpen",
        "display_name": "Acme Sharpen",
        "description": "",
        "python_module": "custom_nodes.whatever",
        "category": "acme",
        "output_node": False,
    }
)
NODES = [
    {"name": "ComfyUI-Acme-Nodes", "repo": ACME, "ref": "main"},
    {"repo": "https://github.com/other/some-pack.git", "ref": "v1"},
]
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


async def create(
    client: httpx.AsyncClient,
    *,
    token: str | None = TOKEN,
    models: list[dict[str, Any]] = SMALL,
    **body: Any,
) -> str:
    launch = pod_launch({"version": 1, "models": models, "custom_nodes": NODES})
    env = {"HANGAR_DEPLOYMENT_ID": "dep-1", **launch.env}
    if token is not None:
        env["HANGAR_POD_TOKEN"] = token
    response = await client.post("/pods", json=pod_body(env=env, args=launch.args, **body))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@contextlib.asynccontextmanager
async def comfy(emu: RunPodEmulator, pod_id: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the pod's ComfyUI (no token unless a test adds one)."""
    transport = httpx.ASGITransport(app=emu.comfyui.app)
    base = f"http://127.0.0.1{comfyui_path(pod_id)}"
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        yield client


BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def upload(http: httpx.AsyncClient, name: str = "cat.png") -> None:
    files = {"image": (name, PNG_1PX, "image/png")}
    response = await http.post("/api/upload/image", files=files, headers=BEARER)
    assert response.status_code == 200, response.text


async def input_images(http: httpx.AsyncClient) -> list[str]:
    info = (await http.get("/api/object_info/LoadImage", headers=BEARER)).json()
    return list(info["LoadImage"]["input"]["required"]["image"][0])


async def test_it_answers_once_setup_started_comfyui_and_only_with_the_pod_token() -> None:
    async with simulated_world() as (handle, client, _):
        emu = handle.emu
        pod_id = await create(client, mounts=VOLUME)
        async with comfy(emu, pod_id) as http:
            emu.clock.advance(TO_RUNNING + SETUP * 0.9)  # RUNNING, still setting up
            assert (await http.get("/api/system_stats", headers=BEARER)).status_code == 502
            emu.clock.advance(SETUP)
            assert (await http.get("/api/system_stats")).status_code == 401
            wrong = {"Authorization": "Bearer " + "w" * 24}
            assert (await http.get("/api/system_stats", headers=wrong)).status_code == 401
            for headers in (BEARER, {"X-Hangar-Token": TOKEN}, {"Cookie": f"hangar_token={TOKEN}"}):
                assert (await http.get("/api/system_stats", headers=headers)).status_code == 200

            # The query token: a GET trades it for a cookie of the pod's path; a POST may use it.
            traded = await http.get("/api/queue?token=" + TOKEN + "&x=1")
            assert traded.status_code == 302
            assert traded.headers["location"] == f"{comfyui_path(pod_id)}/api/queue?x=1"
            assert (
                f"hangar_token={TOKEN}; Path={comfyui_path(pod_id)}/; HttpOnly"
                in (traded.headers["set-cookie"])
            )
            posted = await http.post(f"/api/interrupt?token={TOKEN}", json={})
            assert posted.status_code == 200
            bare_url = f"http://127.0.0.1{comfyui_path(pod_id)}"  # the bare prefix: to its `/`
            bare = await http.get(bare_url, headers=BEARER)
            assert (bare.status_code, bare.headers["location"]) == (307, f"{comfyui_path(pod_id)}/")

            # The pod's own model files and custom nodes.
            info = (await http.get("/api/object_info", headers=BEARER)).json()
            required = info["CheckpointLoaderSimple"]["input"]["required"]
            assert required["ckpt_name"][0] == ["a.safetensors"]
            assert info["LoraLoader"]["input"]["required"]["lora_name"][0] == ["b.safetensors"]
            assert "AcmeSharpen" not in info, "no pack in the registry: installed, no classes"
            packs = (await http.get("/api/models/custom_nodes", headers=BEARER)).json()
            assert packs == ["ComfyUI-Acme-Nodes/__init__.py", "some-pack/__init__.py"]

            # Another pod's token does not open this one.
            other = await create(client, token="another-token-0123456789", mounts=VOLUME)
            emu.clock.advance(TO_RUNNING + SETUP + 1)
            other_bearer = {"Authorization": "Bearer another-token-0123456789"}
            http.cookies.clear()  # this pod's cookie, kept since the trade above
            assert (await http.get("/api/queue", headers=other_bearer)).status_code == 401
        async with comfy(emu, other) as http:
            assert (await http.get("/api/queue", headers=other_bearer)).status_code == 200


async def test_a_pod_without_a_pod_token_or_whose_setup_failed_never_opens() -> None:
    async with simulated_world() as (handle, client, _):
        emu = handle.emu
        tokenless = await create(client, token=None, mounts=VOLUME)
        launch = pod_launch({"version": 1, "models": [hf("org/none", "x.safetensors")]})
        env = {"HANGAR_DEPLOYMENT_ID": "dep-2", "HANGAR_POD_TOKEN": TOKEN, **launch.env}
        created = await client.post("/pods", json=pod_body(env=env, args=launch.args))
        failing = created.json()["id"]
        emu.clock.advance(TO_RUNNING + SETUP + 60)
        async with comfy(emu, tokenless) as http:
            assert (await http.get("/api/queue", headers=BEARER)).status_code == 401
        async with comfy(emu, failing) as http:
            assert (await http.get("/api/queue", headers=BEARER)).status_code == 502


async def test_a_known_pack_adds_its_node_classes_under_its_folder() -> None:
    async with simulated_world(node_packs={ACME + ".git": [ACME_NODE]}) as (handle, client, _):
        emu = handle.emu
        pod_id = await create(client, mounts=VOLUME)
        emu.clock.advance(TO_RUNNING + SETUP + 1)
        async with comfy(emu, pod_id) as http:
            info = (await http.get("/api/object_info/AcmeSharpen", headers=BEARER)).json()
        assert info["AcmeSharpen"]["python_module"] == "custom_nodes.ComfyUI-Acme-Nodes"


async def test_inputs_stay_on_a_pod_volume_and_go_with_the_container_disk() -> None:
    async with simulated_world() as (handle, client, _):
        emu = handle.emu
        on_volume = await create(client, mounts=VOLUME)
        container_only = await create(client)
        emu.clock.advance(TO_RUNNING + SETUP + 1)
        for pod_id in (on_volume, container_only):
            async with comfy(emu, pod_id) as http:
                await upload(http)
                assert await input_images(http) == ["cat.png"]
        for pod_id in (on_volume, container_only):
            await act(client, pod_id, "stop")
            async with comfy(emu, pod_id) as http:
                assert (await http.get("/api/queue", headers=BEARER)).status_code == 502
            await act(client, pod_id, "start")
        emu.clock.advance(START + SETUP + 1)
        async with comfy(emu, on_volume) as http:
            assert await input_images(http) == ["cat.png"], "kept on the pod's volume"
        async with comfy(emu, container_only) as http:
            assert await input_images(http) == [], "the container disk was wiped on stop"

        # A restart keeps both disks but starts a fresh ComfyUI: no history.
        async with comfy(emu, container_only) as http:
            await upload(http, "dog.png")
            before = emu.comfyui.serving(container_only)
            await act(client, container_only, "restart")
            emu.clock.advance(3.0 + SETUP + 1)
            assert await input_images(http) == ["dog.png"]
            assert emu.comfyui.serving(container_only) is not before

        # Terminate takes the volume with it.
        workspace = emu.comfyui.workspace(emu.pod_record(on_volume))
        assert (workspace / "ComfyUI" / "input" / "cat.png").is_file()
        assert (await client.delete(f"/pods/{on_volume}")).status_code == 204
        assert not workspace.exists()


async def test_a_network_volume_holds_the_files_of_every_pod_that_mounts_it() -> None:
    async with simulated_world() as (handle, client, _):
        emu = handle.emu
        volume_id = emu.create_network_volume("shared", 50, "EU-RO-1").id
        mounts = {"network": [{"volumeId": volume_id, "path": "/workspace"}]}
        first = await create(client, mounts=mounts, cloud="SECURE")
        emu.clock.advance(TO_RUNNING + SETUP + 1)
        async with comfy(emu, first) as http:
            await upload(http)
        assert (await client.delete(f"/pods/{first}")).status_code == 204
        second = await create(client, mounts=mounts, cloud="SECURE")
        emu.clock.advance(TO_RUNNING + SETUP + 1)
        async with comfy(emu, second) as http:
            assert await input_images(http) == ["cat.png"]
        assert (await client.delete(f"/pods/{second}")).status_code == 204
        folder = emu.comfyui.workspace(emu.find_pod(second))  # type: ignore[arg-type]
        assert folder.is_dir()
        assert (await client.delete(f"/network-volumes/{volume_id}")).status_code in (200, 204)
        assert not folder.exists()


async def test_files_and_a_started_comfyui_survive_a_restart_of_the_emulator(
    tmp_path: Path,
) -> None:
    state, disks = tmp_path / "runpod.sqlite3", tmp_path / "disks"
    async with simulated_world(state_path=state, disks_path=disks) as (handle, client, _):
        emu = handle.emu
        kept = await create(client, mounts=VOLUME)
        gone = await create(client, mounts=VOLUME)
        emu.clock.advance(TO_RUNNING + SETUP + 1)
        for pod_id in (kept, gone):
            async with comfy(emu, pod_id) as http:
                await upload(http)
        assert (await client.delete(f"/pods/{gone}")).status_code == 204
    # A crash between the terminate's commit and its wipe would leave the disk behind.
    leftover = disks / "pods" / gone / "volume" / "ComfyUI" / "input"
    leftover.mkdir(parents=True, exist_ok=True)
    config = EmulatorConfig(state_path=state, disks_path=disks, speed=1e-9)
    again = RunPodEmulator(dataclasses.replace(config))
    try:
        assert not (disks / "pods" / gone).exists(), "swept at start"
        async with comfy(again, kept) as http:
            assert await input_images(http) == ["cat.png"]
        await again.comfyui.aclose()
    finally:
        again.close()


async def test_every_loader_lists_the_files_of_its_folder_on_the_pod_as_they_are_now() -> None:
    split = [
        hf("org/small", "a.safetensors", "diffusion_models", name="flux.safetensors"),
        hf("org/small", "b.safetensors", "text_encoders", name="clip_l.safetensors"),
        hf("org/small", "b.safetensors", "text_encoders", name="t5xxl.safetensors"),
        hf("org/small", "a.safetensors", "vae", name="ae.safetensors"),
    ]
    async with simulated_world() as (handle, client, _):
        emu = handle.emu
        pod_id = await create(client, models=split, mounts=VOLUME)
        emu.clock.advance(TO_RUNNING + SETUP + 1)

        async def choices(node: str, name: str) -> list[str]:
            info = (await http.get(f"/api/object_info/{node}", headers=BEARER)).json()
            return list(info[node]["input"]["required"][name][0])

        async with comfy(emu, pod_id) as http:
            assert await choices("UNETLoader", "unet_name") == ["flux.safetensors"]
            encoders = ["clip_l.safetensors", "t5xxl.safetensors"]
            assert await choices("CLIPLoader", "clip_name") == encoders
            assert await choices("DualCLIPLoader", "clip_name1") == encoders
            assert await choices("VAELoader", "vae_name") == ["ae.safetensors", "pixel_space"]
            assert await choices("CheckpointLoaderSimple", "ckpt_name") == []
            del emu.model_files(pod_id)["text_encoders/t5xxl.safetensors"]  # gone from the disk
            assert await choices("DualCLIPLoader", "clip_name2") == ["clip_l.safetensors"]


async def test_the_way_in_serves_on_its_own_with_a_lifespan() -> None:
    async with simulated_world() as (handle, client, _):
        emu = handle.emu
        pod_id = await create(client, mounts=VOLUME)
        emu.clock.advance(TO_RUNNING + SETUP + 1)
        async with (
            serve_on_loopback(emu.comfyui.app, lifespan="on") as url,
            httpx.AsyncClient(base_url=url + comfyui_path(pod_id)) as http,
        ):
            assert (await http.get("/api/queue", headers=BEARER)).status_code == 200
            assert (await http.get("/nowhere")).status_code == 401
        assert emu.comfyui.serving(pod_id) is not None, "answers again on the next request"


async def test_a_running_pod_stored_before_comfyui_at_existed_still_serves(
    tmp_path: Path,
) -> None:
    state, disks = tmp_path / "runpod.sqlite3", tmp_path / "disks"
    async with simulated_world(state_path=state, disks_path=disks) as (handle, client, _):
        ready = await create(client, mounts=VOLUME)
        handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
        setting_up = await create(client, mounts=VOLUME)
        handle.emu.clock.advance(TO_RUNNING + 1)
        comfyui_at = handle.emu.pod_record(setting_up).comfyui_at
    with contextlib.closing(sqlite3.connect(state)) as db, db:  # as an older version wrote it
        records = {i: json.loads(r) for i, r in db.execute("SELECT id, record FROM pods")}
        assert all("comfyui_at" in record for record in records.values())
        for pod_id, record in records.items():
            del record["comfyui_at"]
            db.execute("UPDATE pods SET record = ? WHERE id = ?", (json.dumps(record), pod_id))
    again = RunPodEmulator(EmulatorConfig(state_path=state, disks_path=disks, speed=1e-9))
    try:
        assert again.pod_record(setting_up).comfyui_at == comfyui_at, "from its scheduled line"
        async with comfy(again, ready) as http:
            assert (await http.get("/api/queue", headers=BEARER)).status_code == 200
        async with comfy(again, setting_up) as http:
            assert (await http.get("/api/queue", headers=BEARER)).status_code == 502
            again.clock.advance(SETUP)
            assert (await http.get("/api/queue", headers=BEARER)).status_code == 200
        await again.comfyui.aclose()
    finally:
        again.close()
