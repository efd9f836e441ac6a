"""From a stored deployment spec to RunPod: the create request and the candidates to try."""

from __future__ import annotations

from typing import Any

from comfyhangar.runpod.models import (
    Cloud,
    CreateGpuConfig,
    CreatePodRequest,
    GpuType,
    MountsInput,
    NetworkMountInput,
    PersistentMountInput,
)
from comfyhangar.runpod.provisioning import Candidate, build_candidates

POD_LABEL = "comfyui"
COMFYUI_PORT = 8188
VOLUME_PATH = "/workspace"


def create_request(spec: dict[str, Any]) -> CreatePodRequest:
    """The create body for a deployment spec (name and tag are added by `create_tagged_pod`)."""
    if spec.get("network_volume_id"):
        mounts = MountsInput(
            network=[NetworkMountInput(volume_id=spec["network_volume_id"], path=VOLUME_PATH)]
        )
    else:
        mounts = MountsInput(
            persistent=PersistentMountInput(size=spec["volume_gb"], path=VOLUME_PATH)
        )
    return CreatePodRequest(
        name="pending-tag",
        image=spec["image"],
        gpu=CreateGpuConfig(id=spec["gpu"]["id"], count=spec["gpu"]["count"]),
        cloud=Cloud(spec["cloud"]),
        disk=spec["container_disk_gb"],
        mounts=mounts,
        ports=[f"{COMFYUI_PORT}/http"],
        env=dict(spec.get("env") or {}),
    )


def candidates_for(spec: dict[str, Any], catalog: list[GpuType]) -> list[Candidate]:
    """Preferred GPU first (its data centers by stock), then each fallback GPU type."""
    gpu_ids = [spec["gpu"]["id"], *spec.get("fallback_gpu_ids", [])]
    found = build_candidates(
        catalog,
        gpu_ids,
        data_center_ids=spec.get("data_center_ids") or None,
        cloud=Cloud(spec["cloud"]),
    )
    # Nothing in stock anywhere: still try the preferred GPU once, RunPod has the last word.
    return found or [
        Candidate(spec["gpu"]["id"], tuple(spec.get("data_center_ids", ())), Cloud(spec["cloud"]))
    ]
