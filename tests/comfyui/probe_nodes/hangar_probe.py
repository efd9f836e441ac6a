"""A ComfyUI custom node for recording transcripts on a server without model files.

Copy this file into a ComfyUI `custom_nodes/` directory (see `tests/comfyui/record_transcript.py`).
`HangarProbeSampler` reports `steps` progress ticks, each with a JPEG preview of its input, the
way a sampler does through `comfy.utils.ProgressBar`, so the real server shows its `progress`,
`progress_state` and binary preview frames (and how an interrupt lands between steps) without
any model. It runs inside ComfyUI, not in this project: it imports ComfyUI's own modules.
"""

import time

import comfy.utils
import numpy as np
from PIL import Image


class HangarProbeSampler:
    """Passes its image through after `steps` ticks of `step_seconds`, a preview per tick."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 - ComfyUI's node API
        return {
            "required": {
                "image": ("IMAGE",),
                "steps": ("INT", {"default": 4, "min": 1, "max": 1000}),
                "step_seconds": ("FLOAT", {"default": 0.2, "min": 0.0, "max": 60.0, "step": 0.01}),
            }
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = "hangar/testing"
    DESCRIPTION = "Reports sampler-like progress with previews, without a model (for recordings)."

    def run(self, image, steps, step_seconds):
        bar = comfy.utils.ProgressBar(steps)
        pixels = np.clip(image[0].cpu().numpy() * 255.0, 0, 255).astype(np.uint8)
        preview = Image.fromarray(pixels)
        for step in range(steps):
            time.sleep(step_seconds)
            bar.update_absolute(step + 1, steps, ("JPEG", preview, 512))
        return (image,)


NODE_CLASS_MAPPINGS = {"HangarProbeSampler": HangarProbeSampler}
NODE_DISPLAY_NAME_MAPPINGS = {"HangarProbeSampler": "Hangar probe sampler"}
