"""RunPod's public catalog templates, as the emulator offers them."""

from __future__ import annotations

from typing import Any

from comfyhangar.emulators.runpod.catalog import BLACKWELL_CUDA


def public_templates() -> list[dict[str, Any]]:
    """Public catalog templates (`GET /v2/catalog/templates`, usable as `templateId`).

    `cw3nka7d08` and `2lv7ev3wfp` are RunPod's console ComfyUI templates (runpod-api.md §6);
    images from RunPod's ComfyUI tutorial; the PyTorch template id follows RunPod's official
    naming and its image is the spec's example image. Ports, disks and mounts are plausible.
    """
    comfy = {
        "args": "",
        "disk": 50,
        "env": {},
        "registry": None,
        "mounts": {"persistent": {"size": 100, "path": "/workspace"}},
        "ports": ["8188/http", "22/tcp", "8888/http", "8080/http"],
        "serverless": False,
        "public": True,
        "category": "NVIDIA",
        "startSsh": True,
        "startJupyter": True,
    }
    return [
        {
            **comfy,
            "id": "cw3nka7d08",
            "name": "Runpod ComfyUI",
            "image": "runpod/comfyui:latest",
            "allowedCudaVersions": [],
        },
        {
            **comfy,
            "id": "2lv7ev3wfp",
            "name": "Runpod ComfyUI (Blackwell edition)",
            "image": "runpod/comfyui:cuda12.8",
            "allowedCudaVersions": list(BLACKWELL_CUDA),
        },
        {
            **comfy,
            "id": "runpod-torch-v280",
            "name": "Runpod PyTorch 2.8.0",
            "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404",
            "mounts": {"persistent": {"size": 20, "path": "/workspace"}},
            "ports": ["8888/http", "22/tcp"],
            "allowedCudaVersions": [],
        },
    ]
