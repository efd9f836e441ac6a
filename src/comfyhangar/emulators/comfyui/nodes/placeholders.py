"""File lists inside node definitions, filled in from the emulated pod when `/object_info` is read.

ComfyUI rebuilds the choices of its loaders (`ckpt_name`, `lora_name`, ...) from the model folders
on every `/object_info` call, and LoadImage's from the top level of `input/`. The definitions carry
these placeholders in place of the lists; `resolve` swaps in the current files.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The extensions ComfyUI lists in model folders (`folder_paths.supported_pt_extensions`).
MODEL_EXTENSIONS = (".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft")

#: ComfyUI's model folder names (`GET /models`), in its order.
MODEL_FOLDERS = (
    "checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models",
    "clip_vision", "style_models", "embeddings", "diffusers", "vae_approx", "controlnet",
    "gligen", "upscale_models", "custom_nodes", "hypernetworks", "photomaker", "classifiers",
    "model_patches", "audio_encoders",
)  # fmt: skip

#: Old folder names that ComfyUI maps to the new ones (`folder_paths.map_legacy`).
LEGACY_FOLDERS = {"clip": "text_encoders", "unet": "diffusion_models"}

#: The tiny preview decoders that add a `taesd*` choice to VAELoader when both halves exist.
_TAESD = (("taesd", "taesd"), ("taesdxl", "taesdxl"), ("taesd3", "taesd3"), ("taef1", "taef1"))


@dataclass(frozen=True)
class ModelFiles:
    """The model files of one folder (`checkpoints`, `loras`, ...), as ComfyUI lists them."""

    folder: str


class _VaeFiles:
    """VAELoader's list: `vae/` files, a `taesd*` entry per complete approx decoder, `pixel_space`."""

    def __repr__(self) -> str:
        return "VAE_FILES"


class _InputImages:
    """LoadImage's list: the image files at the top level of `input/`, sorted."""

    def __repr__(self) -> str:
        return "INPUT_IMAGES"


VAE_FILES = _VaeFiles()
INPUT_IMAGES = _InputImages()


def folder_key(folder: str) -> str:
    """The current name of a model folder (`clip` -> `text_encoders`)."""
    return LEGACY_FOLDERS.get(folder, folder)


def listed_models(names: Iterable[str], folder: str) -> list[str]:
    """What ComfyUI lists for a folder holding `names`: model extensions only (`custom_nodes`
    has no extension filter: every file), sorted, `/` paths."""
    extensions = (".yaml",) if folder == "configs" else MODEL_EXTENSIONS
    cleaned = {name.replace("\\", "/").strip("/") for name in names}
    if folder == "custom_nodes":
        return sorted(n for n in cleaned if n)
    return sorted(n for n in cleaned if n and n.lower().endswith(extensions))


def vae_choices(models: Mapping[str, list[str]]) -> list[str]:
    """VAELoader's choices, built like `VAELoader.vae_list()`."""
    choices = list(models.get("vae", []))
    approx = models.get("vae_approx", [])
    for stem, label in _TAESD:
        # ComfyUI swaps encoder and decoder for taef1; both must be present either way.
        if any(a.startswith(f"{stem}_decoder.") for a in approx) and any(
            a.startswith(f"{stem}_encoder.") for a in approx
        ):
            choices.append(label)
    choices.append("pixel_space")
    return choices


def is_image_file(name: str) -> bool:
    """True if ComfyUI's `filter_files_content_types(..., ["image"])` keeps `name`."""
    mime, _ = mimetypes.guess_type(name, strict=False)
    return mime is not None and mime.split("/")[0] == "image"


def resolve(
    definition: Any, models: Mapping[str, list[str]], input_images: Callable[[], list[str]]
) -> Any:
    """A copy of `definition` with every placeholder replaced by the current file list."""
    if isinstance(definition, ModelFiles):
        return list(models.get(folder_key(definition.folder), []))
    if definition is VAE_FILES:
        return vae_choices(models)
    if definition is INPUT_IMAGES:
        return input_images()
    if isinstance(definition, dict):
        return {k: resolve(v, models, input_images) for k, v in definition.items()}
    if isinstance(definition, list):
        return [resolve(v, models, input_images) for v in definition]
    return definition
