"""The node classes the emulator carries, and the way a pod's custom nodes are added.

`core_nodes()` is the classic txt2img / img2img / Flux / SD3 set plus the model-free image nodes
of the shared fixtures (the list is in docs/comfyui-emulator.md). Custom nodes are `NodeType`s
with the definition their pack reports; pass them as `extra_nodes` to the emulator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from comfyhangar.emulators.comfyui.nodes import (
    defs_conditioning,
    defs_image,
    defs_loaders,
    defs_sampling,
    defs_utils,
    run_images,
    run_models,
)
from comfyhangar.emulators.comfyui.nodes.types import (
    Behaviour,
    NodeEnvironment,
    NodeOutput,
    NodeType,
    RunContext,
    Timing,
)

#: Classes written with ComfyUI's V3 schema in 0.3.64 (their COMBOs are not checked at submit).
V3_CLASSES = frozenset(
    {
        "UpscaleModelLoader", "FluxGuidance", "EmptySD3LatentImage", "ImageBlend", "ImageBlur",
        "ImageSharpen", "ImageScaleToTotalPixels", "ImageUpscaleWithModel", "PrimitiveInt",
        "PrimitiveFloat", "PrimitiveString", "PrimitiveStringMultiline", "PrimitiveBoolean",
    }
)  # fmt: skip


def _load_image_check(env: NodeEnvironment, inputs: Mapping[str, object]) -> bool | str:
    """LoadImage.VALIDATE_INPUTS: the file must exist (in input/, or as annotated)."""
    image = str(inputs.get("image"))
    if env.input_path(image) is None:
        return f"Invalid image file: {image}"
    return True


def _load_image_fingerprint(env: NodeEnvironment, inputs: Mapping[str, object]) -> object:
    """LoadImage.IS_CHANGED: the sha256 of the file, so a replaced upload runs again."""
    path = env.input_path(str(inputs.get("image")))
    return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else float("nan")


def core_nodes() -> dict[str, NodeType]:
    """The core node classes, by class name (a fresh dict: callers may add to it)."""
    behaviours: dict[str, Behaviour] = {**run_models.BEHAVIOURS, **run_images.BEHAVIOURS}
    nodes: dict[str, NodeType] = {}
    for module in (defs_loaders, defs_conditioning, defs_sampling, defs_image, defs_utils):
        for name, definition in module.DEFINITIONS.items():
            nodes[name] = NodeType(definition, behaviours[name], v3=name in V3_CLASSES)
    nodes["LoadImage"] = NodeType(
        defs_image.DEFINITIONS["LoadImage"],
        behaviours["LoadImage"],
        check_inputs=_load_image_check,
        checked_inputs=("image",),
        fingerprint=_load_image_fingerprint,
    )
    return nodes


__all__ = [
    "V3_CLASSES",
    "Behaviour",
    "NodeEnvironment",
    "NodeOutput",
    "NodeType",
    "RunContext",
    "Timing",
    "core_nodes",
]
