"""Model files a simulated run downloaded stay where the real ones would: on the pod's volume
across stop and start, on a network volume for any pod that mounts it, on the container disk
only until the pod gives up its machine. The next run keeps them ("already present") and
downloads only what is missing or damaged."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.emulators.simworld import (
    AE_SIZE,
    BANDWIDTH,
    SCHNELL,
    SETUP,
    START,
    TO_RUNNING,
    VOLUME,
    World,
    act,
    create,
    hf,
    progress,
    step,
)

CLIP_SIZE = 246_144_152
SMALL = [
    hf("org/small", "a.safetensors", "checkpoints", size=1000),
    hf("org/small", "b.safetensors", "loras", size=3000),
]
DOWNLOADS_AT = 0.36 * SETUP  # seconds after RUNNING at which the downloads begin


def runs(bodies: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The progress lines split into runs (each begins with preflight started)."""
    out: list[list[dict[str, Any]]] = []
    for body in bodies:
        if (body["step"], body["status"]) == ("preflight", "started"):
            out.append([])
        out[-1].append(body)
    return out


def fetched(run: list[dict[str, Any]]) -> list[str]:
    return [
        b["item"] for b in run if b["step"] == "models" and b["status"] == "done" and "item" in b
    ]


async def test_files_on_the_volume_survive_a_stop_and_are_not_downloaded_again(
    world: World,
) -> None:
    handle, client, _ = world
    pod_id = await create(client, SMALL, mounts=VOLUME)
    handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
    assert handle.emu.model_files(pod_id) == {
        "checkpoints/a.safetensors": {
            "size": 1000,
            "sha256": hashlib.sha256(b"a" * 1000).hexdigest(),
        },
        "loras/b.safetensors": {"size": 3000, "sha256": hashlib.sha256(b"b" * 3000).hexdigest()},
    }
    await act(client, pod_id, "stop")
    handle.emu.clock.advance(60)
    await act(client, pod_id, "start")
    handle.emu.clock.advance(START + SETUP + 0.01)
    first, second = runs(progress(handle, pod_id))
    assert fetched(first) == ["a.safetensors", "b.safetensors"]
    assert fetched(second) == []
    models = step(second, "models")
    assert ("skipped", "a.safetensors") in models
    assert ("skipped", "b.safetensors") in models
    ends = [b for b in second if b["step"] == "models" and "item" not in b]
    assert (ends[-1]["status"], ends[-1]["message"]) == ("skipped", "all 2 file(s) present")
    assert not any(b["status"] == "running" for b in second if b["step"] == "models")
    assert step(second, "ready") == [("done", None)]


async def test_only_a_damaged_file_downloads_again(world: World) -> None:
    handle, client, _ = world
    pod_id = await create(client, SMALL, mounts=VOLUME)
    handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
    handle.emu.model_files(pod_id)["loras/b.safetensors"]["size"] = 2999  # cut short
    await act(client, pod_id, "restart")
    handle.emu.clock.advance(3.0 + SETUP + 1)
    again = runs(progress(handle, pod_id))[-1]
    assert fetched(again) == ["b.safetensors"]
    assert ("skipped", "a.safetensors") in step(again, "models")
    assert handle.emu.model_files(pod_id)["loras/b.safetensors"]["size"] == 3000


async def test_the_container_disk_keeps_files_across_a_restart_but_not_a_stop(world: World) -> None:
    handle, client, _ = world
    pod_id = await create(client, SMALL)  # no volume: the models live on the container disk
    handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
    await act(client, pod_id, "restart")
    handle.emu.clock.advance(3.0 + SETUP + 1)
    await act(client, pod_id, "stop")
    assert handle.emu.model_files(pod_id) == {}
    await act(client, pod_id, "start")
    handle.emu.clock.advance(START + SETUP + 1)
    assert [fetched(run) for run in runs(progress(handle, pod_id))] == [
        ["a.safetensors", "b.safetensors"],
        [],
        ["a.safetensors", "b.safetensors"],
    ]


async def test_a_stop_mid_download_keeps_the_files_already_in(world: World) -> None:
    handle, client, _ = world
    models = [
        hf(SCHNELL, "ae.safetensors"),
        hf("comfyanonymous/flux_text_encoders", "clip_l.safetensors", "text_encoders"),
    ]
    pod_id = await create(client, models, mounts=VOLUME)
    handle.emu.clock.advance(TO_RUNNING + DOWNLOADS_AT + AE_SIZE / BANDWIDTH + 0.5)
    await act(client, pod_id, "stop")
    handle.emu.clock.advance(60)  # long past when the cut-off file would have been in
    assert set(handle.emu.model_files(pod_id)) == {"vae/ae.safetensors"}
    await act(client, pod_id, "start")
    handle.emu.clock.advance(START + SETUP + CLIP_SIZE / BANDWIDTH + 0.01)
    last = runs(progress(handle, pod_id))[-1]
    assert ("skipped", "ae.safetensors") in step(last, "models")
    assert fetched(last) == ["clip_l.safetensors"]
    running = [b for b in last if b["step"] == "models" and b["status"] == "running"]
    assert running[-1]["bytes_total"] == CLIP_SIZE
    assert step(last, "ready") == [("done", None)]


async def test_files_on_a_network_volume_belong_to_the_volume(world: World) -> None:
    handle, client, _ = world
    volume = handle.emu.create_network_volume("models", 100, "EU-RO-1")
    mounts = {"network": [{"volumeId": volume.id, "path": "/workspace"}]}
    first = await create(client, SMALL, mounts=mounts, cloud="SECURE")
    handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
    assert (await client.delete(f"/pods/{first}")).status_code == 204
    second = await create(client, SMALL, mounts=mounts, cloud="SECURE")
    handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
    assert fetched(runs(progress(handle, second))[-1]) == []
    assert set(volume.model_files) == {"checkpoints/a.safetensors", "loras/b.safetensors"}
