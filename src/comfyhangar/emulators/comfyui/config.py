"""How one emulated ComfyUI is made: its folders, model files, nodes, speed and device."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from comfyhangar.emulators.comfyui.nodes import NodeType, Timing

PreviewMethod = Literal["none", "auto", "latent2rgb", "taesd"]
PREVIEW_METHODS: tuple[PreviewMethod, ...] = ("none", "auto", "latent2rgb", "taesd")


@dataclass(frozen=True)
class Device:
    """What `/system_stats` reports about the GPU (bytes). The default is a 24 GB RTX 4090."""

    name: str = "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync"
    type: str = "cuda"
    index: int | None = 0
    vram_total: int = 25_386_352_640
    ram_total: int = 67_352_883_200


@dataclass(frozen=True)
class ComfyUIConfig:
    """Settings of one `ComfyUIEmulator`.

    - `root`: the pod's data folder; `output/`, `input/` and `temp/` live under it (files
      survive a restart of the emulator, as on a pod's volume; `temp/` is emptied at start).
    - `models`: model files by folder (`checkpoints`, `loras`, `vae`, `diffusion_models` or its
      old name `unet`, ...), names relative to the folder (`sub/x.safetensors`).
    - `extra_nodes`: node classes of the pod's custom nodes, added to `nodes.core_nodes()`
      (a core class is not replaced: ComfyUI does not let custom nodes override them).
    - `speed`: simulated seconds per real second of node work (tests use 100 or more).
    - `timing`: how long work takes in simulated seconds.
    - `preview_method`: `--preview-method`; anything but `none` sends sampler previews.
    - `preview_size`: `--preview-size`, the largest side of a preview.
    - `max_upload_size_mb`: `--max-upload-size`: the largest request body.
    - `comfyui_dir`: where ComfyUI "lives" on the pod (tracebacks show it).
    - `argv`: the command line `/system_stats` reports.
    """

    root: Path
    models: Mapping[str, Sequence[str]] = field(default_factory=dict)
    extra_nodes: Sequence[NodeType] = ()
    speed: float = 1.0
    timing: Timing = field(default_factory=Timing)
    preview_method: PreviewMethod = "none"
    preview_size: int = 512
    max_upload_size_mb: float = 100.0
    comfyui_dir: str = "/workspace/ComfyUI"
    argv: tuple[str, ...] = ("main.py", "--listen", "127.0.0.1", "--port", "8188")
    device: Device = field(default_factory=Device)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.preview_method not in PREVIEW_METHODS:
            raise ValueError(f"preview_method must be one of {', '.join(PREVIEW_METHODS)}")
        if self.preview_size < 1 or self.max_upload_size_mb <= 0:
            raise ValueError("preview_size and max_upload_size_mb must be positive")

    @property
    def max_upload_bytes(self) -> int:
        return round(self.max_upload_size_mb * 1024 * 1024)
