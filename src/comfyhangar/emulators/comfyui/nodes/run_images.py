"""How the image, mask and utility nodes run in the emulator.

Colour arithmetic follows ComfyUI's code (ImageBlend's modes, ImageInvert, EmptyImage's packed
colour, MaskToImage) on each gradient's top and bottom colour, so a chain of them ends in the
colours ComfyUI would save; sizes follow each node's rules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from comfyhangar.emulators.comfyui.images import RGB, image_size, png_edges
from comfyhangar.emulators.comfyui.nodes.types import Behaviour, NodeOutput, RunContext
from comfyhangar.emulators.comfyui.values import GREY, Mask, Picture, Tone, target_size


def _picture(inputs: dict[str, Any], name: str) -> Picture:
    value = inputs[name]
    if isinstance(value, Picture):
        return value
    if isinstance(value, Mask):
        return _mask_to_picture(value)
    raise TypeError(f"{name} is not an image")


def _mask_to_picture(mask: Mask) -> Picture:
    tones = tuple(((top, top, top), (bottom, bottom, bottom)) for top, bottom in mask.levels)
    return Picture(mask.width, mask.height, tones)


async def _image_op(ctx: RunContext, picture: Picture, weight: float = 1.0) -> None:
    rate = ctx.timing.image_op_s * weight
    await ctx.work(ctx.timing.per_megapixel(rate, picture.width, picture.height, picture.batch))


async def _load_image(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    path = ctx.input_path(str(inputs["image"]))
    if path is None:
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{inputs['image']}'")
    data = path.read_bytes()
    size = image_size(data)
    if size is None:
        raise OSError(f"cannot identify image file '{path}'")
    width, height = size
    edges = png_edges(data)
    top, bottom = (edges[0], edges[1]) if edges else (GREY, GREY)
    alpha = edges[2] if edges else None
    mask = (
        Mask(width, height, ((1.0 - alpha[0], 1.0 - alpha[1]),))
        if alpha is not None
        else Mask(64, 64, ((0.0, 0.0),))
    )
    return NodeOutput((Picture(width, height, ((top, bottom),)), mask))


async def _save_image(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "images")
    await _image_op(ctx, picture)
    prefix = str(inputs.get("filename_prefix", "ComfyUI"))
    return NodeOutput(ui={"images": ctx.save_images(picture, prefix, temp=False)})


async def _preview_image(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "images")
    await _image_op(ctx, picture, 0.5)
    return NodeOutput(ui={"images": ctx.save_images(picture, "ComfyUI", temp=True)})


async def _empty_image(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    color = int(inputs["color"])
    rgb = (((color >> 16) & 0xFF) / 0xFF, ((color >> 8) & 0xFF) / 0xFF, (color & 0xFF) / 0xFF)
    picture = Picture.flat(int(inputs["width"]), int(inputs["height"]), rgb, int(inputs["batch_size"]))  # fmt: skip
    return NodeOutput((picture,))


async def _invert(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "image")
    await _image_op(ctx, picture)
    return NodeOutput((picture.mapped(lambda c: 1.0 - c),))


def _soft_light_g(x: float) -> float:
    return ((16 * x - 12) * x + 4) * x if x <= 0.25 else math.sqrt(max(0.0, x))


_BLEND_MODES: dict[str, Callable[[float, float], float]] = {
    "normal": lambda a, b: b,
    "multiply": lambda a, b: a * b,
    "screen": lambda a, b: 1 - (1 - a) * (1 - b),
    "overlay": lambda a, b: 2 * a * b if a <= 0.5 else 1 - 2 * (1 - a) * (1 - b),
    "soft_light": lambda a, b: (
        a - (1 - 2 * b) * a * (1 - a) if b <= 0.5 else a + (2 * b - 1) * (_soft_light_g(a) - a)
    ),
    "difference": lambda a, b: a - b,
}


async def _blend(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    first, second = _picture(inputs, "image1"), _picture(inputs, "image2")
    mode = str(inputs["blend_mode"])
    if mode not in _BLEND_MODES:
        raise ValueError(f"Unsupported blend mode: {mode}")
    await _image_op(ctx, first)
    blend, factor = _BLEND_MODES[mode], float(inputs["blend_factor"])

    def channel(a: float, b: float) -> float:
        return min(1.0, max(0.0, a * (1 - factor) + blend(a, b) * factor))

    def colour(a: RGB, b: RGB) -> RGB:
        return (channel(a[0], b[0]), channel(a[1], b[1]), channel(a[2], b[2]))

    batch = max(first.batch, second.batch)
    tones: list[Tone] = []
    for i in range(batch):  # a batch of one broadcasts, as torch does
        a = first.tones[min(i, first.batch - 1)]
        b = second.tones[min(i, second.batch - 1)]
        tones.append((colour(a[0], b[0]), colour(a[1], b[1])))
    return NodeOutput((Picture(first.width, first.height, tuple(tones)),))


def _filter(weight_input: str) -> Behaviour:
    """Blur and sharpen: same size and (for a smooth gradient) the same colours; cost by radius."""

    async def run(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
        picture = _picture(inputs, "image")
        await _image_op(ctx, picture, 1 + int(inputs[weight_input]) / 4)
        return NodeOutput((picture,))

    return run


async def _scale(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "image")
    size = target_size((picture.width, picture.height), int(inputs["width"]), int(inputs["height"]))  # fmt: skip
    if size is None:
        return NodeOutput((picture,))
    await _image_op(ctx, picture)
    return NodeOutput((picture.resized(*size),))


async def _scale_by(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "image")
    factor = float(inputs["scale_by"])
    await _image_op(ctx, picture)
    width, height = round(picture.width * factor), round(picture.height * factor)
    return NodeOutput((picture.resized(width, height),))


async def _scale_to_pixels(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "image")
    total = float(inputs["megapixels"]) * 1024 * 1024
    factor = math.sqrt(total / (picture.width * picture.height))
    await _image_op(ctx, picture)
    width, height = round(picture.width * factor), round(picture.height * factor)
    return NodeOutput((picture.resized(width, height),))


async def _batch(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    first, second = _picture(inputs, "image1"), _picture(inputs, "image2")
    await _image_op(ctx, second)
    return NodeOutput((Picture(first.width, first.height, first.tones + second.tones),))


async def _image_size(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "image")
    await ctx.work(ctx.timing.node_s)
    ctx.send_text(f"width: {picture.width}, height: {picture.height}\n batch size: {picture.batch}")
    return NodeOutput((picture.width, picture.height, picture.batch))


async def _solid_mask(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    value = float(inputs["value"])
    return NodeOutput((Mask(int(inputs["width"]), int(inputs["height"]), ((value, value),)),))


async def _mask_to_image(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    mask = inputs["mask"]
    if not isinstance(mask, Mask):
        raise TypeError("mask is not a MASK")
    await ctx.work(ctx.timing.node_s)
    return NodeOutput((_mask_to_picture(mask),))


async def _image_to_mask(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = _picture(inputs, "image")
    await ctx.work(ctx.timing.node_s)
    channel = ["red", "green", "blue", "alpha"].index(str(inputs["channel"]))
    if channel == 3:  # the emulator's images are RGB, like ComfyUI's after LoadImage
        raise IndexError("index 3 is out of bounds for dimension 3 with size 3")
    levels = tuple((top[channel], bottom[channel]) for top, bottom in picture.tones)
    return NodeOutput((Mask(picture.width, picture.height, levels),))


def _preview_text(source: Any) -> str:
    """PreviewAny's text for a value, by its rules (strings as they are, numbers by str, JSON)."""
    if source is None:
        return "None"
    if isinstance(source, str):
        return source
    if isinstance(source, (int, float, bool)):
        return str(source)
    try:
        return json.dumps(source)
    except (TypeError, ValueError):
        return str(source)


async def _preview_any(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    return NodeOutput(ui={"text": [_preview_text(inputs.get("source"))]})


async def _primitive(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    return NodeOutput((inputs["value"],))


BEHAVIOURS: dict[str, Behaviour] = {
    "LoadImage": _load_image,
    "SaveImage": _save_image,
    "PreviewImage": _preview_image,
    "EmptyImage": _empty_image,
    "ImageInvert": _invert,
    "ImageBlend": _blend,
    "ImageBlur": _filter("blur_radius"),
    "ImageSharpen": _filter("sharpen_radius"),
    "ImageScale": _scale,
    "ImageScaleBy": _scale_by,
    "ImageScaleToTotalPixels": _scale_to_pixels,
    "ImageBatch": _batch,
    "GetImageSize": _image_size,
    "SolidMask": _solid_mask,
    "MaskToImage": _mask_to_image,
    "ImageToMask": _image_to_mask,
    "PreviewAny": _preview_any,
    "PrimitiveInt": _primitive,
    "PrimitiveFloat": _primitive,
    "PrimitiveString": _primitive,
    "PrimitiveStringMultiline": _primitive,
    "PrimitiveBoolean": _primitive,
}
