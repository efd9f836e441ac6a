"""ComfyUI 0.3.64's model loaders (their file lists come from the emulated pod's model folders): `/object_info` entries.

Written to equal what ComfyUI itself reports for these classes (checked against a real server's
snapshot by tests/comfyui/test_emulator_nodes.py). File lists are placeholders that
`nodes.placeholders.resolve` fills from the emulated pod.
"""

from __future__ import annotations

from typing import Any

from comfyhangar.emulators.comfyui.nodes.placeholders import VAE_FILES, ModelFiles

DEFINITIONS: dict[str, dict[str, Any]] = {
    "CheckpointLoaderSimple": {
        "input": {
            "required": {
                "ckpt_name": [
                    ModelFiles("checkpoints"),
                    {"tooltip": "The name of the checkpoint (model) to load."},
                ]
            }
        },
        "input_order": {"required": ["ckpt_name"]},
        "output": ["MODEL", "CLIP", "VAE"],
        "output_is_list": [False, False, False],
        "output_name": ["MODEL", "CLIP", "VAE"],
        "name": "CheckpointLoaderSimple",
        "display_name": "Load Checkpoint",
        "description": "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
        "output_tooltips": [
            "The model used for denoising latents.",
            "The CLIP model used for encoding text prompts.",
            "The VAE model used for encoding and decoding images to and from latent space.",
        ],
    },
    "UNETLoader": {
        "input": {
            "required": {
                "unet_name": [ModelFiles("diffusion_models")],
                "weight_dtype": [["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"]],
            }
        },
        "input_order": {"required": ["unet_name", "weight_dtype"]},
        "output": ["MODEL"],
        "output_is_list": [False],
        "output_name": ["MODEL"],
        "name": "UNETLoader",
        "display_name": "Load Diffusion Model",
        "description": "",
        "python_module": "nodes",
        "category": "advanced/loaders",
        "output_node": False,
    },
    "CLIPLoader": {
        "input": {
            "required": {
                "clip_name": [ModelFiles("text_encoders")],
                "type": [
                    [
                        "stable_diffusion",
                        "stable_cascade",
                        "sd3",
                        "stable_audio",
                        "mochi",
                        "ltxv",
                        "pixart",
                        "cosmos",
                        "lumina2",
                        "wan",
                        "hidream",
                        "chroma",
                        "ace",
                        "omnigen2",
                        "qwen_image",
                        "hunyuan_image",
                    ]
                ],
            },
            "optional": {"device": [["default", "cpu"], {"advanced": True}]},
        },
        "input_order": {"required": ["clip_name", "type"], "optional": ["device"]},
        "output": ["CLIP"],
        "output_is_list": [False],
        "output_name": ["CLIP"],
        "name": "CLIPLoader",
        "display_name": "Load CLIP",
        "description": "[Recipes]\n\nstable_diffusion: clip-l\nstable_cascade: clip-g\nsd3: t5 xxl/ clip-g / clip-l\nstable_audio: t5 base\nmochi: t5 xxl\ncosmos: old t5 xxl\nlumina2: gemma 2 2B\nwan: umt5 xxl\n hidream: llama-3.1 (Recommend) or t5\nomnigen2: qwen vl 2.5 3B",
        "python_module": "nodes",
        "category": "advanced/loaders",
        "output_node": False,
    },
    "DualCLIPLoader": {
        "input": {
            "required": {
                "clip_name1": [ModelFiles("text_encoders")],
                "clip_name2": [ModelFiles("text_encoders")],
                "type": [["sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image"]],
            },
            "optional": {"device": [["default", "cpu"], {"advanced": True}]},
        },
        "input_order": {"required": ["clip_name1", "clip_name2", "type"], "optional": ["device"]},
        "output": ["CLIP"],
        "output_is_list": [False],
        "output_name": ["CLIP"],
        "name": "DualCLIPLoader",
        "display_name": "DualCLIPLoader",
        "description": "[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\nflux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama\nhunyuan_image: qwen2.5vl 7b and byt5 small",
        "python_module": "nodes",
        "category": "advanced/loaders",
        "output_node": False,
    },
    "VAELoader": {
        "input": {"required": {"vae_name": [VAE_FILES]}},
        "input_order": {"required": ["vae_name"]},
        "output": ["VAE"],
        "output_is_list": [False],
        "output_name": ["VAE"],
        "name": "VAELoader",
        "display_name": "Load VAE",
        "description": "",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
    },
    "LoraLoader": {
        "input": {
            "required": {
                "model": ["MODEL", {"tooltip": "The diffusion model the LoRA will be applied to."}],
                "clip": ["CLIP", {"tooltip": "The CLIP model the LoRA will be applied to."}],
                "lora_name": [ModelFiles("loras"), {"tooltip": "The name of the LoRA."}],
                "strength_model": [
                    "FLOAT",
                    {
                        "default": 1.0,
                        "min": -100.0,
                        "max": 100.0,
                        "step": 0.01,
                        "tooltip": "How strongly to modify the diffusion model. This value can be negative.",
                    },
                ],
                "strength_clip": [
                    "FLOAT",
                    {
                        "default": 1.0,
                        "min": -100.0,
                        "max": 100.0,
                        "step": 0.01,
                        "tooltip": "How strongly to modify the CLIP model. This value can be negative.",
                    },
                ],
            }
        },
        "input_order": {
            "required": ["model", "clip", "lora_name", "strength_model", "strength_clip"]
        },
        "output": ["MODEL", "CLIP"],
        "output_is_list": [False, False],
        "output_name": ["MODEL", "CLIP"],
        "name": "LoraLoader",
        "display_name": "Load LoRA",
        "description": "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
        "output_tooltips": ["The modified diffusion model.", "The modified CLIP model."],
    },
    "LoraLoaderModelOnly": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "lora_name": [ModelFiles("loras")],
                "strength_model": [
                    "FLOAT",
                    {"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01},
                ],
            }
        },
        "input_order": {"required": ["model", "lora_name", "strength_model"]},
        "output": ["MODEL"],
        "output_is_list": [False],
        "output_name": ["MODEL"],
        "name": "LoraLoaderModelOnly",
        "display_name": "LoraLoaderModelOnly",
        "description": "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
        "output_tooltips": ["The modified diffusion model.", "The modified CLIP model."],
    },
    "ControlNetLoader": {
        "input": {"required": {"control_net_name": [ModelFiles("controlnet")]}},
        "input_order": {"required": ["control_net_name"]},
        "output": ["CONTROL_NET"],
        "output_is_list": [False],
        "output_name": ["CONTROL_NET"],
        "name": "ControlNetLoader",
        "display_name": "Load ControlNet Model",
        "description": "",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
    },
    "UpscaleModelLoader": {
        "input": {
            "required": {
                "model_name": [
                    "COMBO",
                    {"multiselect": False, "options": ModelFiles("upscale_models")},
                ]
            }
        },
        "input_order": {"required": ["model_name"]},
        "output": ["UPSCALE_MODEL"],
        "output_is_list": [False],
        "output_name": ["UPSCALE_MODEL"],
        "output_tooltips": [None],
        "name": "UpscaleModelLoader",
        "display_name": "Load Upscale Model",
        "description": "",
        "python_module": "comfy_extras.nodes_upscale_model",
        "category": "loaders",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "CLIPVisionLoader": {
        "input": {"required": {"clip_name": [ModelFiles("clip_vision")]}},
        "input_order": {"required": ["clip_name"]},
        "output": ["CLIP_VISION"],
        "output_is_list": [False],
        "output_name": ["CLIP_VISION"],
        "name": "CLIPVisionLoader",
        "display_name": "Load CLIP Vision",
        "description": "",
        "python_module": "nodes",
        "category": "loaders",
        "output_node": False,
    },
}
