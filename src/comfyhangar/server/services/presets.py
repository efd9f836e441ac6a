"""Presets: named sets of models and custom nodes a deployment can start from and add to.

Sizes are exact byte counts as published on Hugging Face where we know them; the ones marked
`approximate` were rounded from the hub's listing and are only used for disk planning: they
stay out of the manifest, since the agent refuses a file whose size differs from the
manifest's (preflight reads the real size before a pod is created).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comfyhangar.agent.manifest import MANIFEST_VERSION

CUSTOM_SCRIPTS = {
    "name": "ComfyUI-Custom-Scripts",
    "repo": "https://github.com/pythongosssss/ComfyUI-Custom-Scripts",
    "ref": "main",
}
RGTHREE = {
    "name": "rgthree-comfy",
    "repo": "https://github.com/rgthree/rgthree-comfy",
    "ref": "main",
}


@dataclass(frozen=True)
class PresetModel:
    """One model of a preset; `gated` repos need a Hugging Face token with access."""

    name: str
    folder: str
    repo: str
    file: str
    size: int
    gated: bool = False
    approximate: bool = False  # `size` is rounded: for planning only, not for the agent

    def manifest_entry(self) -> dict[str, Any]:
        """The model as a manifest entry (with its size when it is exact)."""
        entry: dict[str, Any] = {"name": self.name, "folder": self.folder}
        if not self.approximate:
            entry["size"] = self.size
        entry["source"] = {"type": "huggingface", "repo": self.repo, "file": self.file}
        return entry


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    description: str
    models: tuple[PresetModel, ...]
    nodes: tuple[dict[str, str], ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(m.size for m in self.models)

    @property
    def needs_hf_token(self) -> bool:
        return any(m.gated for m in self.models)

    def manifest(self) -> dict[str, Any]:
        """The preset as a manifest."""
        return {
            "version": MANIFEST_VERSION,
            "custom_nodes": [dict(n) for n in self.nodes],
            "models": [m.manifest_entry() for m in self.models],
        }


_TEXT_ENCODERS = "comfyanonymous/flux_text_encoders"
CLIP_L = PresetModel(
    "clip_l.safetensors", "text_encoders", _TEXT_ENCODERS, "clip_l.safetensors", 246_144_152
)
T5XXL_FP16 = PresetModel(
    "t5xxl_fp16.safetensors",
    "text_encoders",
    _TEXT_ENCODERS,
    "t5xxl_fp16.safetensors",
    9_787_841_024,
)
# The FLUX VAE from the (ungated, Apache-2.0) schnell repo; the dev repo has the same file.
AE = PresetModel(
    "ae.safetensors", "vae", "black-forest-labs/FLUX.1-schnell", "ae.safetensors", 335_304_388
)
FLUX_SCHNELL = PresetModel(
    "flux1-schnell.safetensors",
    "diffusion_models",
    "black-forest-labs/FLUX.1-schnell",
    "flux1-schnell.safetensors",
    23_782_506_688,
)
FLUX_DEV = PresetModel(
    "flux1-dev.safetensors",
    "diffusion_models",
    "black-forest-labs/FLUX.1-dev",
    "flux1-dev.safetensors",
    23_802_932_552,
    gated=True,
)
# Two FLUX LoRAs; sizes approximate (about 22 MB and about 694 MB).
REALISM_LORA = PresetModel(
    "flux-realism-lora.safetensors",
    "loras",
    "XLabs-AI/flux-RealismLora",
    "lora.safetensors",
    22_000_000,
    approximate=True,
)
TURBO_LORA = PresetModel(
    "flux1-turbo-alpha.safetensors",
    "loras",
    "alimama-creative/FLUX.1-Turbo-Alpha",
    "diffusion_pytorch_model.safetensors",
    694_000_000,
    approximate=True,
)
SDXL_BASE = PresetModel(
    "sd_xl_base_1.0.safetensors",
    "checkpoints",
    "stabilityai/stable-diffusion-xl-base-1.0",
    "sd_xl_base_1.0.safetensors",
    6_938_078_334,
)
SDXL_VAE = PresetModel(
    "sdxl_vae.safetensors", "vae", "stabilityai/sdxl-vae", "sdxl_vae.safetensors", 334_641_164
)

# Ungated sets first: they deploy with no token. `GET /presets` and the CLI list them in this order.
# Ungated sets first (they deploy with no token): GET /presets lists them in this order.
PRESETS: dict[str, Preset] = {
    p.id: p
    for p in (
        Preset(
            "flux-schnell",
            "FLUX.1-schnell",
            "FLUX.1-schnell (Apache-2.0, no token needed) with its text encoders and VAE.",
            (FLUX_SCHNELL, CLIP_L, T5XXL_FP16, AE),
            (CUSTOM_SCRIPTS,),
        ),
        Preset(
            "sdxl-base",
            "SDXL base 1.0",
            "Stable Diffusion XL base 1.0 with the SDXL VAE.",
            (SDXL_BASE, SDXL_VAE),
            (CUSTOM_SCRIPTS,),
        ),
        Preset(
            "flux-seed",
            "FLUX.1-dev starter set",
            "FLUX.1-dev (about 23 GB, gated: needs a Hugging Face token with access), its text "
            "encoders and VAE, two LoRAs, ComfyUI-Custom-Scripts and rgthree-comfy.",
            (FLUX_DEV, CLIP_L, T5XXL_FP16, AE, REALISM_LORA, TURBO_LORA),
            (CUSTOM_SCRIPTS, RGTHREE),
        ),
        Preset(
            "flux-dev",
            "FLUX.1-dev",
            "FLUX.1-dev (gated: needs a Hugging Face token that accepted the license) with its "
            "text encoders and VAE.",
            (FLUX_DEV, CLIP_L, T5XXL_FP16, AE),
            (CUSTOM_SCRIPTS,),
        ),
    )
}


def merge(preset: Preset | None, manifest: dict[str, Any]) -> dict[str, Any]:
    """The preset's manifest with the deployment's additions: same-named nodes and models
    (same folder and name) from the deployment replace the preset's; pip lists are joined."""
    if preset is None:
        return manifest
    base = preset.manifest()
    merged: dict[str, Any] = {"version": manifest.get("version", MANIFEST_VERSION)}
    if "comfyui" in manifest:
        merged["comfyui"] = manifest["comfyui"]
    own_nodes = list(manifest.get("custom_nodes", []))
    own_node_names = {str(n.get("name", "")).lower() for n in own_nodes if isinstance(n, dict)}
    merged["custom_nodes"] = [
        n for n in base["custom_nodes"] if n["name"].lower() not in own_node_names
    ] + own_nodes
    own_models = list(manifest.get("models", []))
    own_paths = {
        f"{m.get('folder')}/{m.get('name')}".lower() for m in own_models if isinstance(m, dict)
    }
    merged["models"] = [
        m for m in base["models"] if f"{m['folder']}/{m['name']}".lower() not in own_paths
    ] + own_models
    if manifest.get("pip"):
        merged["pip"] = list(manifest["pip"])
    return merged
