"""How the loaders, conditioning, latent and sampler nodes run in the emulator.

Loaders hand out `Handle`s named after their file; samplers report one progress tick per step (as
`comfy.utils.ProgressBar` does), with a preview whose colour moves from grey to the result, and
give their latent the colours that seed, prompt and model determine.
"""

from __future__ import annotations

import math
from typing import Any

from comfyhangar.emulators.comfyui.nodes.types import Behaviour, NodeOutput, RunContext
from comfyhangar.emulators.comfyui.values import (
    GREY,
    Handle,
    Latent,
    Picture,
    mix,
    target_size,
    tones_of,
)


def _loader(*kinds: str, name_input: str) -> Behaviour:
    async def run(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
        await ctx.work(ctx.timing.load_s)
        origin = str(inputs.get(name_input, ""))
        return NodeOutput(tuple(Handle(kind, origin) for kind in kinds))

    return run


async def _dual_clip(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.load_s)
    return NodeOutput((Handle("CLIP", f"{inputs['clip_name1']}+{inputs['clip_name2']}"),))


async def _lora(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.load_s / 4)
    note = f"lora:{inputs['lora_name']}:{inputs['strength_model']}"
    model = _handle(inputs["model"], "MODEL").with_extra(note)
    if "clip" not in inputs:  # LoraLoaderModelOnly
        return NodeOutput((model,))
    clip = _handle(inputs["clip"], "CLIP").with_extra(f"lora:{inputs['lora_name']}")
    return NodeOutput((model, clip))


def _patch(input_name: str, kind: str, *notes: str) -> Behaviour:
    """A node that returns its input with a note of what it changed (model patches, guidance)."""

    async def run(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
        await ctx.work(ctx.timing.node_s)
        extra = [f"{n}:{inputs[n]}" for n in notes if n in inputs]
        return NodeOutput((_handle(inputs[input_name], kind).with_extra(*extra),))

    return run


async def _encode_text(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s * 3)
    clip = _handle(inputs["clip"], "CLIP")
    return NodeOutput((Handle("CONDITIONING", str(inputs["text"]), (str(clip),)),))


async def _zero_out(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    return NodeOutput((Handle("CONDITIONING", "", ("zero",)),))


async def _combine(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    first = _handle(inputs["conditioning_1"], "CONDITIONING")
    second = _handle(inputs["conditioning_2"], "CONDITIONING")
    return NodeOutput((Handle("CONDITIONING", f"{first.origin} | {second.origin}"),))


async def _control_net(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s * 5)
    note = f"controlnet:{_handle(inputs['control_net'], 'CONTROL_NET').origin}:{inputs['strength']}"
    positive = _handle(inputs["positive"], "CONDITIONING").with_extra(note)
    negative = _handle(inputs["negative"], "CONDITIONING").with_extra(note)
    return NodeOutput((positive, negative))


async def _clip_vision_encode(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s * 3)
    return NodeOutput((Handle("CLIP_VISION_OUTPUT", str(inputs["clip_vision"])),))


async def _empty_latent(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    width, height = int(inputs["width"]) // 8 * 8, int(inputs["height"]) // 8 * 8
    return NodeOutput((Latent(width, height, int(inputs["batch_size"])),))


async def _latent_upscale(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    latent = _latent(inputs["samples"])
    size = target_size((latent.width, latent.height), int(inputs["width"]), int(inputs["height"]), 64)  # fmt: skip
    if size is None:
        return NodeOutput((latent,))
    width, height = size
    return NodeOutput((Latent(width // 8 * 8, height // 8 * 8, latent.batch, latent.tones),))


async def _latent_upscale_by(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    latent = _latent(inputs["samples"])
    scale = float(inputs["scale_by"])
    width = round(latent.width / 8 * scale) * 8
    height = round(latent.height / 8 * scale) * 8
    return NodeOutput((Latent(width, height, latent.batch, latent.tones),))


async def _vae_decode(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    latent = _latent(inputs["samples"])
    await ctx.work(ctx.timing.per_megapixel(ctx.timing.decode_s, latent.width, latent.height, latent.batch))  # fmt: skip
    tones = latent.tones or ((GREY, GREY),) * latent.batch
    return NodeOutput((Picture(latent.width, latent.height, tones),))


async def _vae_encode(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = inputs["pixels"]
    if not isinstance(picture, Picture):
        raise TypeError("VAEEncode needs an IMAGE")
    await ctx.work(ctx.timing.per_megapixel(ctx.timing.decode_s, picture.width, picture.height, picture.batch))  # fmt: skip
    width, height = picture.width // 8 * 8, picture.height // 8 * 8
    return NodeOutput((Latent(width, height, picture.batch, picture.tones),))


async def _sample(
    ctx: RunContext, latent: Latent, steps: int, denoise: float, *identity: object
) -> Latent:
    """Run `steps` sampler steps over `latent`; the sampled latent."""
    result = tones_of(latent.batch, *identity)
    if latent.tones is not None and denoise < 1.0:  # img2img keeps part of the input
        result = tuple(
            (mix(old[0], new[0], denoise), mix(old[1], new[1], denoise))
            for old, new in zip(latent.tones, result, strict=True)
        )
    step_s = ctx.timing.sampler_step(latent.width, latent.height, latent.batch)
    for step in range(steps):
        await ctx.work(step_s)
        colour = mix(GREY, result[0][0], (step + 1) / steps) if ctx.previews else None
        await ctx.step(step + 1, steps, colour, (latent.width, latent.height))
    return Latent(latent.width, latent.height, latent.batch, result)


async def _ksampler(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    denoise = float(inputs.get("denoise", 1.0))
    identity = _identity(inputs, "seed", "positive", "negative", "cfg", "sampler_name", "scheduler")
    latent = _latent(inputs["latent_image"])
    steps = int(inputs["steps"]) if denoise > 0 else 0
    return NodeOutput((await _sample(ctx, latent, steps, denoise, *identity),))


async def _ksampler_advanced(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    latent = _latent(inputs["latent_image"])
    start, end = int(inputs["start_at_step"]), min(int(inputs["end_at_step"]), int(inputs["steps"]))
    if start >= end:  # ComfyUI returns the input latent unsampled
        return NodeOutput((latent,))
    identity = _identity(inputs, "noise_seed", "positive", "negative", "cfg", "sampler_name")
    share = (end - start) / int(inputs["steps"])
    return NodeOutput((await _sample(ctx, latent, end - start, share, *identity),))


async def _sampler_custom_advanced(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    latent = _latent(inputs["latent_image"])
    sigmas = _handle(inputs["sigmas"], "SIGMAS")
    identity = _identity(inputs, "noise", "guider", "sampler")
    sampled = await _sample(ctx, latent, sigmas.steps, 1.0, *identity)
    return NodeOutput((sampled, sampled))


async def _basic_scheduler(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    await ctx.work(ctx.timing.node_s)
    steps = int(inputs["steps"]) if float(inputs["denoise"]) > 0 else 0
    return NodeOutput((Handle("SIGMAS", str(inputs["scheduler"]), steps=steps),))


def _token(kind: str, *names: str) -> Behaviour:
    """A node that makes an opaque value out of its inputs (a sampler choice, noise, a guider)."""

    async def run(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
        await ctx.work(ctx.timing.node_s)
        return NodeOutput((Handle(kind, ";".join(str(inputs.get(n, "")) for n in names)),))

    return run


def _identity(inputs: dict[str, Any], *names: str) -> list[object]:
    return [str(inputs.get(n, "")) for n in ("model", *names)]


def _latent(value: Any) -> Latent:
    if isinstance(value, Latent):
        return value
    if isinstance(value, Picture):  # a custom node fed an image where a latent goes
        return Latent(value.width, value.height, value.batch, value.tones)
    return Latent(512, 512)


def _handle(value: Any, kind: str) -> Handle:
    return value if isinstance(value, Handle) else Handle(kind, str(value))


def _scale_of(name: str) -> int:
    """The factor an upscale model's file name announces (`4x-UltraSharp.pth` -> 4)."""
    for part in name.replace("-", "_").replace(".", "_").split("_"):
        low = part.lower()
        if low.endswith("x") and low[:-1].isdigit():
            return max(1, int(low[:-1]))
        if low.startswith("x") and low[1:].isdigit():
            return max(1, int(low[1:]))
    return 4


async def _upscale_with_model(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    picture = inputs["image"]
    if not isinstance(picture, Picture):
        raise TypeError("ImageUpscaleWithModel needs an IMAGE")
    scale = _scale_of(_handle(inputs["upscale_model"], "UPSCALE_MODEL").origin)
    tiles = picture.batch * math.ceil(picture.width / 512) * math.ceil(picture.height / 512)
    tile_s = ctx.timing.per_megapixel(ctx.timing.image_op_s * scale, 512, 512, 1)
    for tile in range(tiles):
        await ctx.work(tile_s)
        await ctx.step(tile + 1, tiles)
    return NodeOutput((picture.resized(picture.width * scale, picture.height * scale),))


BEHAVIOURS: dict[str, Behaviour] = {
    "CheckpointLoaderSimple": _loader("MODEL", "CLIP", "VAE", name_input="ckpt_name"),
    "UNETLoader": _loader("MODEL", name_input="unet_name"),
    "CLIPLoader": _loader("CLIP", name_input="clip_name"),
    "DualCLIPLoader": _dual_clip,
    "VAELoader": _loader("VAE", name_input="vae_name"),
    "LoraLoader": _lora,
    "LoraLoaderModelOnly": _lora,
    "ControlNetLoader": _loader("CONTROL_NET", name_input="control_net_name"),
    "UpscaleModelLoader": _loader("UPSCALE_MODEL", name_input="model_name"),
    "CLIPVisionLoader": _loader("CLIP_VISION", name_input="clip_name"),
    "CLIPTextEncode": _encode_text,
    "CLIPSetLastLayer": _patch("clip", "CLIP", "stop_at_clip_layer"),
    "ConditioningZeroOut": _zero_out,
    "ConditioningCombine": _combine,
    "ConditioningSetTimestepRange": _patch("conditioning", "CONDITIONING", "start", "end"),
    "FluxGuidance": _patch("conditioning", "CONDITIONING", "guidance"),
    "ControlNetApplyAdvanced": _control_net,
    "CLIPVisionEncode": _clip_vision_encode,
    "ModelSamplingSD3": _patch("model", "MODEL", "shift"),
    "ModelSamplingAuraFlow": _patch("model", "MODEL", "shift"),
    "EmptyLatentImage": _empty_latent,
    "EmptySD3LatentImage": _empty_latent,
    "LatentUpscale": _latent_upscale,
    "LatentUpscaleBy": _latent_upscale_by,
    "VAEDecode": _vae_decode,
    "VAEEncode": _vae_encode,
    "KSampler": _ksampler,
    "KSamplerAdvanced": _ksampler_advanced,
    "SamplerCustomAdvanced": _sampler_custom_advanced,
    "KSamplerSelect": _token("SAMPLER", "sampler_name"),
    "BasicScheduler": _basic_scheduler,
    "RandomNoise": _token("NOISE", "noise_seed"),
    "BasicGuider": _token("GUIDER", "model", "conditioning"),
    "CFGGuider": _token("GUIDER", "model", "positive", "negative", "cfg"),
    "ImageUpscaleWithModel": _upscale_with_model,
}
