"""ComfyUI 0.3.64's text encoding, conditioning and model patches: `/object_info` entries.

Written to equal what ComfyUI itself reports for these classes (checked against a real server's
snapshot by tests/comfyui/test_emulator_nodes.py). File lists are placeholders that
`nodes.placeholders.resolve` fills from the emulated pod.
"""

from __future__ import annotations

from typing import Any

DEFINITIONS: dict[str, dict[str, Any]] = {
    "CLIPTextEncode": {
        "input": {
            "required": {
                "text": [
                    "STRING",
                    {
                        "multiline": True,
                        "dynamicPrompts": True,
                        "tooltip": "The text to be encoded.",
                    },
                ],
                "clip": ["CLIP", {"tooltip": "The CLIP model used for encoding the text."}],
            }
        },
        "input_order": {"required": ["text", "clip"]},
        "output": ["CONDITIONING"],
        "output_is_list": [False],
        "output_name": ["CONDITIONING"],
        "name": "CLIPTextEncode",
        "display_name": "CLIP Text Encode (Prompt)",
        "description": "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.",
        "python_module": "nodes",
        "category": "conditioning",
        "output_node": False,
        "output_tooltips": [
            "A conditioning containing the embedded text used to guide the diffusion model."
        ],
    },
    "CLIPSetLastLayer": {
        "input": {
            "required": {
                "clip": ["CLIP"],
                "stop_at_clip_layer": ["INT", {"default": -1, "min": -24, "max": -1, "step": 1}],
            }
        },
        "input_order": {"required": ["clip", "stop_at_clip_layer"]},
        "output": ["CLIP"],
        "output_is_list": [False],
        "output_name": ["CLIP"],
        "name": "CLIPSetLastLayer",
        "display_name": "CLIP Set Last Layer",
        "description": "",
        "python_module": "nodes",
        "category": "conditioning",
        "output_node": False,
    },
    "ConditioningZeroOut": {
        "input": {"required": {"conditioning": ["CONDITIONING"]}},
        "input_order": {"required": ["conditioning"]},
        "output": ["CONDITIONING"],
        "output_is_list": [False],
        "output_name": ["CONDITIONING"],
        "name": "ConditioningZeroOut",
        "display_name": "ConditioningZeroOut",
        "description": "",
        "python_module": "nodes",
        "category": "advanced/conditioning",
        "output_node": False,
    },
    "ConditioningCombine": {
        "input": {
            "required": {"conditioning_1": ["CONDITIONING"], "conditioning_2": ["CONDITIONING"]}
        },
        "input_order": {"required": ["conditioning_1", "conditioning_2"]},
        "output": ["CONDITIONING"],
        "output_is_list": [False],
        "output_name": ["CONDITIONING"],
        "name": "ConditioningCombine",
        "display_name": "Conditioning (Combine)",
        "description": "",
        "python_module": "nodes",
        "category": "conditioning",
        "output_node": False,
    },
    "ConditioningSetTimestepRange": {
        "input": {
            "required": {
                "conditioning": ["CONDITIONING"],
                "start": ["FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}],
                "end": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001}],
            }
        },
        "input_order": {"required": ["conditioning", "start", "end"]},
        "output": ["CONDITIONING"],
        "output_is_list": [False],
        "output_name": ["CONDITIONING"],
        "name": "ConditioningSetTimestepRange",
        "display_name": "ConditioningSetTimestepRange",
        "description": "",
        "python_module": "nodes",
        "category": "advanced/conditioning",
        "output_node": False,
    },
    "FluxGuidance": {
        "input": {
            "required": {
                "conditioning": ["CONDITIONING", {}],
                "guidance": ["FLOAT", {"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}],
            }
        },
        "input_order": {"required": ["conditioning", "guidance"]},
        "output": ["CONDITIONING"],
        "output_is_list": [False],
        "output_name": ["CONDITIONING"],
        "output_tooltips": [None],
        "name": "FluxGuidance",
        "display_name": None,
        "description": "",
        "python_module": "comfy_extras.nodes_flux",
        "category": "advanced/conditioning/flux",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "ControlNetApplyAdvanced": {
        "input": {
            "required": {
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "control_net": ["CONTROL_NET"],
                "image": ["IMAGE"],
                "strength": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}],
                "start_percent": ["FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}],
                "end_percent": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001}],
            },
            "optional": {"vae": ["VAE"]},
        },
        "input_order": {
            "required": [
                "positive",
                "negative",
                "control_net",
                "image",
                "strength",
                "start_percent",
                "end_percent",
            ],
            "optional": ["vae"],
        },
        "output": ["CONDITIONING", "CONDITIONING"],
        "output_is_list": [False, False],
        "output_name": ["positive", "negative"],
        "name": "ControlNetApplyAdvanced",
        "display_name": "Apply ControlNet",
        "description": "",
        "python_module": "nodes",
        "category": "conditioning/controlnet",
        "output_node": False,
    },
    "CLIPVisionEncode": {
        "input": {
            "required": {
                "clip_vision": ["CLIP_VISION"],
                "image": ["IMAGE"],
                "crop": [["center", "none"]],
            }
        },
        "input_order": {"required": ["clip_vision", "image", "crop"]},
        "output": ["CLIP_VISION_OUTPUT"],
        "output_is_list": [False],
        "output_name": ["CLIP_VISION_OUTPUT"],
        "name": "CLIPVisionEncode",
        "display_name": "CLIP Vision Encode",
        "description": "",
        "python_module": "nodes",
        "category": "conditioning",
        "output_node": False,
    },
    "ModelSamplingSD3": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "shift": ["FLOAT", {"default": 3.0, "min": 0.0, "max": 100.0, "step": 0.01}],
            }
        },
        "input_order": {"required": ["model", "shift"]},
        "output": ["MODEL"],
        "output_is_list": [False],
        "output_name": ["MODEL"],
        "name": "ModelSamplingSD3",
        "display_name": "ModelSamplingSD3",
        "description": "",
        "python_module": "comfy_extras.nodes_model_advanced",
        "category": "advanced/model",
        "output_node": False,
    },
    "ModelSamplingAuraFlow": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "shift": ["FLOAT", {"default": 1.73, "min": 0.0, "max": 100.0, "step": 0.01}],
            }
        },
        "input_order": {"required": ["model", "shift"]},
        "output": ["MODEL"],
        "output_is_list": [False],
        "output_name": ["MODEL"],
        "name": "ModelSamplingAuraFlow",
        "display_name": "ModelSamplingAuraFlow",
        "description": "",
        "python_module": "comfy_extras.nodes_model_advanced",
        "category": "advanced/model",
        "output_node": False,
    },
}
