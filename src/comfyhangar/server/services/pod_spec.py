"""From a stored deployment spec to RunPod: the create request and the candidates to try."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from comfyhangar.agent.manifest import MANIFEST_VERSION
from comfyhangar.agent.pack import pod_launch
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
from comfyhangar.server.services.secrets import CIVITAI_TOKEN, HF_TOKEN, POD_TOKEN

POD_LABEL = "comfyui"
COMFYUI_PORT = 8188
VOLUME_PATH = "/workspace"
POD_TOKEN_ENV = "HANGAR_POD_TOKEN"  # noqa: S105 - an env name


def comfyui_url(pod_id: str) -> str:
    """The pod's ComfyUI through RunPod's HTTP proxy (the agent's token proxy answers)."""
    return f"https://{pod_id}-{COMFYUI_PORT}.proxy.runpod.net/"


def create_request(
    spec: dict[str, Any],
    secrets: Mapping[str, str] | None = None,
    *,
    agent_args: Sequence[str] = (),
) -> CreatePodRequest:
    """The create body for a deployment spec (name and tag are added by `create_tagged_pod`).

    The pod agent travels inside it (`pod_launch`: its bundle with the manifest in env, and
    the `args` one-liner that runs it); `secrets` adds the pod token and the download tokens
    the user gave as env. RunPod echoes env in its pod object: it is never stored or shown.
    """
    secrets = secrets or {}
    manifest = spec.get("manifest") or {"version": MANIFEST_VERSION}
    launch = pod_launch(manifest, root=VOLUME_PATH, extra_args=agent_args)
    env = {**(spec.get("env") or {}), **launch.env}
    for name, var in (
        (POD_TOKEN, POD_TOKEN_ENV),
        (HF_TOKEN, "HF_TOKEN"),
        (CIVITAI_TOKEN, "CIVITAI_TOKEN"),
    ):
        if secrets.get(name):
            env[var] = secrets[name]
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
        env=env,
        args=launch.args,
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
