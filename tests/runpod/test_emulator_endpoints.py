"""Every client endpoint against the RunPod emulator (each exchange checked with the spec)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comfyhangar.emulators.runpod import EmulatorConfig
from comfyhangar.runpod import ConflictError, NotFoundError, RunPodClient
from comfyhangar.runpod.models import (
    AvailabilityLevel,
    CreateNetworkVolumeRequest,
    CreatePodRequest,
    MountsInput,
    NetworkMountInput,
    PodStatus,
    UpdateNetworkVolumeRequest,
    UpdatePodRequest,
)
from tests.runpod.conftest import FROZEN, KEY
from tests.runpod.helpers import fast_policy
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

RTX_4090 = "NVIDIA GeForce RTX 4090"


def comfy_request(name: str = "comfy", **kwargs: object) -> CreatePodRequest:
    fields: dict[str, object] = {
        "name": name,
        "image": "runpod/comfyui:latest",
        "gpu": {"id": RTX_4090, "count": 1},
        "disk": 20,
        "ports": ["8188/http", "22/tcp"],
        "env": {"HANGAR_DEPLOYMENT_ID": "d-1"},
    }
    fields.update(kwargs)
    return CreatePodRequest.model_validate(fields)


async def test_pod_lifecycle(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    emu = handle.emu
    pod = await runpod.create_pod(comfy_request(data_center_ids=["EU-RO-1"]))
    assert pod.status is PodStatus.PROVISIONING
    assert pod.data_center_id == "EU-RO-1"
    assert pod.env["HANGAR_DEPLOYMENT_ID"] == "d-1"
    assert (await runpod.get_pod(pod.id)).id == pod.id
    assert [p.id for p in await runpod.list_pods()] == [pod.id]

    renamed = await runpod.update_pod(pod.id, UpdatePodRequest(name="comfy-2", locked=False))
    assert renamed.name == "comfy-2"
    emu.clock.advance(10)
    running = await runpod.get_pod(pod.id)
    assert running.status is PodStatus.RUNNING
    assert running.runtime is not None
    assert running.cost > 0

    stopped = await runpod.stop_pod(pod.id)
    assert stopped.status is PodStatus.EXITED
    assert stopped.cost == 0
    with pytest.raises(ConflictError):
        await runpod.stop_pod(pod.id)
    started = await runpod.start_pod(pod.id)
    assert started.status is PodStatus.STARTING
    emu.clock.advance(10)
    restarted = await runpod.restart_pod(pod.id)
    assert restarted.status in (PodStatus.STARTING, PodStatus.RUNNING)

    await runpod.terminate_pod(pod.id)
    with pytest.raises(NotFoundError):
        await runpod.get_pod(pod.id)
    assert await runpod.ensure_terminated(pod.id) is False
    assert await runpod.list_pods() == []

    other = await runpod.create_pod(comfy_request("other"))
    await runpod.delete_pod(other.id)
    with pytest.raises(NotFoundError):
        await runpod.delete_pod(other.id)
    another = await runpod.create_pod(comfy_request("another"))
    assert await runpod.ensure_terminated(another.id) is True


async def test_catalog(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    gpus = await runpod.list_gpu_types()
    assert any(g.id == RTX_4090 for g in gpus)
    assert all(g.availability is None for g in gpus)
    handle.emu.set_stock(RTX_4090, "EU-RO-1", 0)
    stocked = await runpod.list_gpu_types(include_availability=True, cloud="SECURE", count=1)
    rtx = next(g for g in stocked if g.id == RTX_4090)
    assert rtx.availability is not None
    assert rtx.price.secure is not None
    assert rtx.price.secure > 0
    by_dc = {dc.id: dc.availability for dc in rtx.data_centers}
    assert by_dc.get("US-KS-2", AvailabilityLevel.NONE).rank > 0
    assert by_dc.get("EU-RO-1", AvailabilityLevel.NONE) is AvailabilityLevel.NONE
    one = await runpod.get_gpu_type(RTX_4090, include_availability=True)
    assert one.id == RTX_4090
    assert one.memory == 24
    centers = await runpod.list_data_centers(include_gpu_availability=True, regions=["EUROPE"])
    assert centers
    assert all(dc.region == "EUROPE" for dc in centers)
    assert any(dc.gpu_availability for dc in centers)
    ro = await runpod.get_data_center("EU-RO-1", include_gpu_availability=True)
    assert ro.id == "EU-RO-1"


async def test_network_volumes(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    volume = await runpod.create_network_volume(
        CreateNetworkVolumeRequest(name="models", size=100, data_center="EU-RO-1")
    )
    assert volume.size == 100
    assert [v.id for v in await runpod.list_network_volumes()] == [volume.id]
    assert (await runpod.get_network_volume(volume.id)).data_center == "EU-RO-1"
    grown = await runpod.update_network_volume(
        volume.id, UpdateNetworkVolumeRequest(name="models-2", size=150)
    )
    assert (grown.name, grown.size) == ("models-2", 150)

    mounts = MountsInput(network=[NetworkMountInput(volume_id=volume.id, path="/workspace")])
    pod = await runpod.create_pod(comfy_request(mounts=mounts, data_center_ids=["EU-RO-1"]))
    assert pod.mounts.network[0].volume_id == volume.id
    await runpod.terminate_pod(pod.id)

    handle.emu.clock.advance(7200)
    report = await runpod.network_volume_billing(
        bucket_size="hour", last_n=4, network_volume_id=volume.id
    )
    assert report.records
    assert all(r.network_volume_id == volume.id for r in report.records)
    assert report.metadata.totals.total_amount > 0
    await runpod.delete_network_volume(volume.id)
    with pytest.raises(NotFoundError):
        await runpod.get_network_volume(volume.id)


async def test_templates(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    public = await runpod.list_public_templates()
    assert public
    assert all(t.public for t in public)
    assert await runpod.list_templates() == []
    async with handle.client() as raw:  # the client has no template create: make one raw
        created = await raw.post(
            "/templates", json={"name": "mine", "image": "runpod/comfyui:latest"}
        )
        assert created.status_code == 201
    mine = await runpod.list_templates()
    assert [t.name for t in mine] == ["mine"]
    template = await runpod.get_template(mine[0].id)
    assert template.image == "runpod/comfyui:latest"
    assert template.start_ssh is True  # create defaults startSsh/startJupyter to true
    with pytest.raises(NotFoundError):
        await runpod.get_template("nosuchtpl1")
    pod = await runpod.create_pod(
        CreatePodRequest(name="from-template", template_id=public[0].id, gpu={"id": RTX_4090})
    )
    assert pod.image


async def test_pod_billing(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    pod = await runpod.create_pod(comfy_request())
    handle.emu.clock.advance(3 * 3600)
    report = await runpod.pod_billing(bucket_size="hour", last_n=5, pod_id=pod.id)
    assert report.records
    assert {r.pod_id for r in report.records} == {pod.id}
    assert sum(r.total_amount for r in report.records) > 0
    assert report.metadata.unique_pod_count == 1
    now = handle.emu.clock.now()
    window = await runpod.pod_billing(start_time=now - timedelta(days=2), end_time=now)
    assert window.metadata.query.bucket_size == "day"
    assert sum(r.gpu_amount for r in window.records) > 0


async def test_pagination_over_many_pages() -> None:
    config = EmulatorConfig(api_key=KEY, seed=3, speed=FROZEN, page_size=2)
    async with (
        emulator_server(config) as handle,
        RunPodClient(handle.api_key, handle.base_url, retry=fast_policy()) as runpod,
    ):
        created = [(await runpod.create_pod(comfy_request(f"p{i}"))).id for i in range(7)]
        await runpod.terminate_pod(created[3])
        listed = [p.id for p in await runpod.list_pods()]
        assert listed == created[:3] + created[4:]  # 6 pods: 3 pages of 2
