"""Pod creation: merge a template, check the cross-field rules, place the pod on stock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from comfyhangar.core.pricing import pod_rate_per_hour
from comfyhangar.emulators.runpod.bodies import create_pod_errors
from comfyhangar.emulators.runpod.catalog import GPUS_BY_ID, GpuType
from comfyhangar.emulators.runpod.locations import DCS_BY_ID, cuda_versions_at
from comfyhangar.emulators.runpod.problems import ApiError, bad_request, invalid, not_found

if TYPE_CHECKING:
    from comfyhangar.emulators.runpod.emulator import RunPodEmulator
    from comfyhangar.emulators.runpod.model import Pod

NO_CAPACITY = (
    "There are no longer any instances available with the requested specifications. "
    "Please refresh and try again."
)
_PORT = re.compile(r"^\d{1,5}/(http|tcp)$")


def cuda_key(version: str) -> tuple[int, ...]:
    """Numeric order of `major.minor` (12.11 > 12.2)."""
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class PodPlan:
    """A validated create request, resolved against its template."""

    name: str
    image: str
    args: str
    disk: int
    ports: list[str]
    env: dict[str, str]
    registry: str | None
    mounts: dict[str, Any]
    cloud: str
    gpu: GpuType
    count: int
    allowed_cuda: list[str]
    min_cuda: str | None
    data_center_ids: list[str]
    global_networking: bool
    start_jupyter: bool


def resolve(emu: RunPodEmulator, body: Any) -> PodPlan:
    """Validate a create body (422, 400, 404) and merge its template."""
    errors = create_pod_errors(body)
    if errors:
        raise invalid(errors)
    if ("gpu" in body) == ("cpu" in body):
        raise bad_request("exactly one of gpu or cpu must be set")
    if "cpu" in body:
        raise bad_request("CPU pods are not supported by the ComfyHangar emulator")
    template: dict[str, Any] = {}
    if "templateId" in body:
        template = emu.template(body["templateId"])
        if template["serverless"]:
            raise invalid(["$.templateId: a serverless template cannot create a pod"])
    gpu_body = body["gpu"]
    if "allowedCudaVersions" in gpu_body or "minCudaVersion" in gpu_body:
        allowed, min_cuda = gpu_body.get("allowedCudaVersions", []), gpu_body.get("minCudaVersion")
    else:
        allowed, min_cuda = template.get("allowedCudaVersions", []), None
    if allowed and min_cuda:
        raise bad_request("gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive")
    mounts = body.get("mounts", template.get("mounts", {}))
    if "persistent" in mounts and "network" in mounts:
        raise bad_request("mounts.persistent and mounts.network are mutually exclusive")
    ports = body.get("ports", template.get("ports", []))
    bad_ports = [p for p in ports if not _PORT.match(p)]
    if bad_ports:
        raise bad_request(f"invalid port {bad_ports[0]!r}: expected <port>/<http|tcp>")
    gpu = GPUS_BY_ID.get(gpu_body["id"])
    if gpu is None:
        raise not_found("gpu type")
    unknown_dcs = [dc for dc in body.get("dataCenterIds", []) if dc not in DCS_BY_ID]
    if unknown_dcs:
        raise bad_request(f"unknown data center {unknown_dcs[0]!r}")
    return PodPlan(
        name=body["name"],
        image=body.get("image", template.get("image", "")),
        args=body.get("args", template.get("args", "")),
        disk=int(body.get("disk", template.get("disk", 50))),
        ports=list(ports),
        env={**template.get("env", {}), **body.get("env", {})},
        registry=body.get("registry", template.get("registry")),
        mounts=mounts,
        cloud=body.get("cloud", "SECURE"),
        gpu=gpu,
        count=int(gpu_body.get("count", 1)),
        allowed_cuda=list(allowed),
        min_cuda=min_cuda,
        data_center_ids=list(body.get("dataCenterIds", [])),
        global_networking=bool(body.get("globalNetworking", False)),
        start_jupyter=bool(body.get("startJupyter", template.get("startJupyter", False))),
    )


def hourly_rate(plan: PodPlan) -> Decimal:
    """The full hourly rate of the planned pod once RUNNING (GPU + disks)."""
    persistent = plan.mounts.get("persistent")
    return pod_rate_per_hour(
        "RUNNING",
        gpu_price_per_hour=plan.gpu.price(plan.cloud),
        gpu_count=plan.count,
        container_disk_gb=plan.disk,
        volume_gb=int(persistent["size"]) if persistent else 0,
    ).total


def cuda_choice(plan: PodPlan, available: tuple[str, ...]) -> str | None:
    """The highest CUDA version offered that meets the plan's constraint, else None."""
    usable = [
        v
        for v in available
        if (not plan.allowed_cuda or v in plan.allowed_cuda)
        and (plan.min_cuda is None or cuda_key(v) >= cuda_key(plan.min_cuda))
    ]
    return max(usable, key=cuda_key) if usable else None


def place(emu: RunPodEmulator, plan: PodPlan) -> tuple[str, str | None]:
    """(data center id, CUDA version) for the plan, or the 400/404 RunPod would give."""
    gpu, cloud = plan.gpu, plan.cloud
    if plan.count > gpu.max_count(cloud) and gpu.max_count(cloud) > 0:
        raise bad_request(
            f"gpu.count {plan.count} exceeds the largest {cloud} machine with {gpu.id} "
            f"({gpu.max_count(cloud)} GPUs)"
        )
    candidates = plan.data_center_ids or list(DCS_BY_ID)
    volume_id = plan.mounts["network"][0]["volumeId"] if plan.mounts.get("network") else None
    if volume_id is not None:
        volume = emu.volume(volume_id)
        if cloud != "SECURE":
            raise bad_request("network volumes can only be attached to SECURE cloud pods")
        if volume.data_center not in candidates:
            raise bad_request(
                f"network volume {volume_id} is in {volume.data_center}, "
                "which is not among the requested dataCenterIds"
            )
        candidates = [volume.data_center]
    if plan.global_networking:
        if gpu.manufacturer != "NVIDIA":
            raise bad_request("global networking requires an NVIDIA GPU")
        candidates = [dc for dc in candidates if DCS_BY_ID[dc].global_network]
    for dc_id in candidates:
        cuda = cuda_choice(plan, cuda_versions_at(gpu, dc_id))
        if emu.free_gpus(gpu.id, dc_id, cloud) >= plan.count and (cuda or not gpu.cuda):
            return dc_id, cuda
    raise ApiError(400, NO_CAPACITY)


def update_pod(emu: RunPodEmulator, pod: Pod, changes: dict[str, Any]) -> Pod:
    """Apply a validated PATCH body (template first, body fields over it; mount rules: 400)."""
    if "templateId" in changes:
        template = emu.template(changes.pop("templateId"))
        if template["serverless"]:
            raise invalid(["$.templateId: a serverless template cannot be applied to a pod"])
        fields = ("image", "args", "disk", "ports", "registry")
        env = {**template["env"], **changes.get("env", {})}
        changes = {**{f: template[f] for f in fields}, **changes, "env": env}
    mounts = changes.pop("mounts", {})
    if mounts.get("network") == []:
        raise bad_request("mounts.network cannot be cleared")
    for kind in mounts:
        if kind not in pod.mounts:
            raise bad_request(f"cannot add a {kind} mount: the mount kind is fixed at create")
    if "network" in mounts and mounts["network"][0]["volumeId"] != pod.network_volume_id:
        raise bad_request("the volumeId of a network mount cannot change")
    bad_ports = [p for p in changes.get("ports", []) if not _PORT.match(p)]
    if bad_ports:
        raise bad_request(f"invalid port {bad_ports[0]!r}: expected <port>/<http|tcp>")
    if changes.get("globalNetworking"):
        gpu = GPUS_BY_ID[pod.gpu_id]
        if gpu.manufacturer != "NVIDIA" or not DCS_BY_ID[pod.data_center_id].global_network:
            raise bad_request("global networking needs an NVIDIA GPU in an eligible data center")
    if "globalNetworking" in changes:
        pod.global_networking_next = bool(changes["globalNetworking"])
    resize = changes.get("disk", pod.disk) != pod.disk or (
        "persistent" in mounts and mounts["persistent"]["size"] != pod.volume_gb
    )
    pod.mounts = {**pod.mounts, **mounts}
    for key, attribute in (
        ("name", "name"),
        ("image", "image"),
        ("args", "args"),
        ("disk", "disk"),
        ("ports", "ports"),
        ("env", "env"),
        ("registry", "registry"),
        ("locked", "locked"),
    ):
        if key in changes:
            setattr(pod, attribute, changes[key])
    if resize:
        pod.resize(emu.now())
    return pod
