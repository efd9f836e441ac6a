"""ComfyUI 0.3.64's latents, samplers and the VAE: `/object_info` entries.

Written to equal what ComfyUI itself reports for these classes (checked against a real server's
snapshot by tests/comfyui/test_emulator_nodes.py). File lists are placeholders that
`nodes.placeholders.resolve` fills from the emulated pod.
"""

from __future__ import annotations

from typing import Any

#: `comfy.samplers.KSampler.SAMPLERS` and `.SCHEDULERS` of 0.3.64.
SAMPLERS: list[str] = [
    "euler",
    "euler_cfg_pp",
    "euler_ancestral",
    "euler_ancestral_cfg_pp",
    "heun",
    "heunpp2",
    "dpm_2",
    "dpm_2_ancestral",
    "lms",
    "dpm_fast",
    "dpm_adaptive",
    "dpmpp_2s_ancestral",
    "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde",
    "dpmpp_sde_gpu",
    "dpmpp_2m",
    "dpmpp_2m_cfg_pp",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun",
    "dpmpp_2m_sde_heun_gpu",
    "dpmpp_3m_sde",
    "dpmpp_3m_sde_gpu",
    "ddpm",
    "lcm",
    "ipndm",
    "ipndm_v",
    "deis",
    "res_multistep",
    "res_multistep_cfg_pp",
    "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp",
    "gradient_estimation",
    "gradient_estimation_cfg_pp",
    "er_sde",
    "seeds_2",
    "seeds_3",
    "sa_solver",
    "sa_solver_pece",
    "ddim",
    "uni_pc",
    "uni_pc_bh2",
]
SCHEDULERS: list[str] = [
    "simple",
    "sgm_uniform",
    "karras",
    "exponential",
    "ddim_uniform",
    "beta",
    "normal",
    "linear_quadratic",
    "kl_optimal",
]

DEFINITIONS: dict[str, dict[str, Any]] = {
    "EmptyLatentImage": {
        "input": {
            "required": {
                "width": [
                    "INT",
                    {
                        "default": 512,
                        "min": 16,
                        "max": 16384,
                        "step": 8,
                        "tooltip": "The width of the latent images in pixels.",
                    },
                ],
                "height": [
                    "INT",
                    {
                        "default": 512,
                        "min": 16,
                        "max": 16384,
                        "step": 8,
                        "tooltip": "The height of the latent images in pixels.",
                    },
                ],
                "batch_size": [
                    "INT",
                    {
                        "default": 1,
                        "min": 1,
                        "max": 4096,
                        "tooltip": "The number of latent images in the batch.",
                    },
                ],
            }
        },
        "input_order": {"required": ["width", "height", "batch_size"]},
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "name": "EmptyLatentImage",
        "display_name": "Empty Latent Image",
        "description": "Create a new batch of empty latent images to be denoised via sampling.",
        "python_module": "nodes",
        "category": "latent",
        "output_node": False,
        "output_tooltips": ["The empty latent image batch."],
    },
    "EmptySD3LatentImage": {
        "input": {
            "required": {
                "width": ["INT", {"default": 1024, "min": 16, "max": 16384, "step": 16}],
                "height": ["INT", {"default": 1024, "min": 16, "max": 16384, "step": 16}],
                "batch_size": ["INT", {"default": 1, "min": 1, "max": 4096}],
            }
        },
        "input_order": {"required": ["width", "height", "batch_size"]},
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "output_tooltips": [None],
        "name": "EmptySD3LatentImage",
        "display_name": None,
        "description": "",
        "python_module": "comfy_extras.nodes_sd3",
        "category": "latent/sd3",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "LatentUpscale": {
        "input": {
            "required": {
                "samples": ["LATENT"],
                "upscale_method": [["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]],
                "width": ["INT", {"default": 512, "min": 0, "max": 16384, "step": 8}],
                "height": ["INT", {"default": 512, "min": 0, "max": 16384, "step": 8}],
                "crop": [["disabled", "center"]],
            }
        },
        "input_order": {"required": ["samples", "upscale_method", "width", "height", "crop"]},
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "name": "LatentUpscale",
        "display_name": "Upscale Latent",
        "description": "",
        "python_module": "nodes",
        "category": "latent",
        "output_node": False,
    },
    "LatentUpscaleBy": {
        "input": {
            "required": {
                "samples": ["LATENT"],
                "upscale_method": [["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]],
                "scale_by": ["FLOAT", {"default": 1.5, "min": 0.01, "max": 8.0, "step": 0.01}],
            }
        },
        "input_order": {"required": ["samples", "upscale_method", "scale_by"]},
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "name": "LatentUpscaleBy",
        "display_name": "Upscale Latent By",
        "description": "",
        "python_module": "nodes",
        "category": "latent",
        "output_node": False,
    },
    "VAEDecode": {
        "input": {
            "required": {
                "samples": ["LATENT", {"tooltip": "The latent to be decoded."}],
                "vae": ["VAE", {"tooltip": "The VAE model used for decoding the latent."}],
            }
        },
        "input_order": {"required": ["samples", "vae"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "name": "VAEDecode",
        "display_name": "VAE Decode",
        "description": "Decodes latent images back into pixel space images.",
        "python_module": "nodes",
        "category": "latent",
        "output_node": False,
        "output_tooltips": ["The decoded image."],
    },
    "VAEEncode": {
        "input": {"required": {"pixels": ["IMAGE"], "vae": ["VAE"]}},
        "input_order": {"required": ["pixels", "vae"]},
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "name": "VAEEncode",
        "display_name": "VAE Encode",
        "description": "",
        "python_module": "nodes",
        "category": "latent",
        "output_node": False,
    },
    "KSampler": {
        "input": {
            "required": {
                "model": ["MODEL", {"tooltip": "The model used for denoising the input latent."}],
                "seed": [
                    "INT",
                    {
                        "default": 0,
                        "min": 0,
                        "max": 18446744073709551615,
                        "control_after_generate": True,
                        "tooltip": "The random seed used for creating the noise.",
                    },
                ],
                "steps": [
                    "INT",
                    {
                        "default": 20,
                        "min": 1,
                        "max": 10000,
                        "tooltip": "The number of steps used in the denoising process.",
                    },
                ],
                "cfg": [
                    "FLOAT",
                    {
                        "default": 8.0,
                        "min": 0.0,
                        "max": 100.0,
                        "step": 0.1,
                        "round": 0.01,
                        "tooltip": "The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality.",
                    },
                ],
                "sampler_name": [
                    SAMPLERS,
                    {
                        "tooltip": "The algorithm used when sampling, this can affect the quality, speed, and style of the generated output."
                    },
                ],
                "scheduler": [
                    SCHEDULERS,
                    {
                        "tooltip": "The scheduler controls how noise is gradually removed to form the image."
                    },
                ],
                "positive": [
                    "CONDITIONING",
                    {
                        "tooltip": "The conditioning describing the attributes you want to include in the image."
                    },
                ],
                "negative": [
                    "CONDITIONING",
                    {
                        "tooltip": "The conditioning describing the attributes you want to exclude from the image."
                    },
                ],
                "latent_image": ["LATENT", {"tooltip": "The latent image to denoise."}],
                "denoise": [
                    "FLOAT",
                    {
                        "default": 1.0,
                        "min": 0.0,
                        "max": 1.0,
                        "step": 0.01,
                        "tooltip": "The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling.",
                    },
                ],
            }
        },
        "input_order": {
            "required": [
                "model",
                "seed",
                "steps",
                "cfg",
                "sampler_name",
                "scheduler",
                "positive",
                "negative",
                "latent_image",
                "denoise",
            ]
        },
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "name": "KSampler",
        "display_name": "KSampler",
        "description": "Uses the provided model, positive and negative conditioning to denoise the latent image.",
        "python_module": "nodes",
        "category": "sampling",
        "output_node": False,
        "output_tooltips": ["The denoised latent."],
    },
    "KSamplerAdvanced": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "add_noise": [["enable", "disable"]],
                "noise_seed": [
                    "INT",
                    {
                        "default": 0,
                        "min": 0,
                        "max": 18446744073709551615,
                        "control_after_generate": True,
                    },
                ],
                "steps": ["INT", {"default": 20, "min": 1, "max": 10000}],
                "cfg": [
                    "FLOAT",
                    {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01},
                ],
                "sampler_name": [SAMPLERS],
                "scheduler": [SCHEDULERS],
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "latent_image": ["LATENT"],
                "start_at_step": ["INT", {"default": 0, "min": 0, "max": 10000}],
                "end_at_step": ["INT", {"default": 10000, "min": 0, "max": 10000}],
                "return_with_leftover_noise": [["disable", "enable"]],
            }
        },
        "input_order": {
            "required": [
                "model",
                "add_noise",
                "noise_seed",
                "steps",
                "cfg",
                "sampler_name",
                "scheduler",
                "positive",
                "negative",
                "latent_image",
                "start_at_step",
                "end_at_step",
                "return_with_leftover_noise",
            ]
        },
        "output": ["LATENT"],
        "output_is_list": [False],
        "output_name": ["LATENT"],
        "name": "KSamplerAdvanced",
        "display_name": "KSampler (Advanced)",
        "description": "",
        "python_module": "nodes",
        "category": "sampling",
        "output_node": False,
    },
    "SamplerCustomAdvanced": {
        "input": {
            "required": {
                "noise": ["NOISE"],
                "guider": ["GUIDER"],
                "sampler": ["SAMPLER"],
                "sigmas": ["SIGMAS"],
                "latent_image": ["LATENT"],
            }
        },
        "input_order": {"required": ["noise", "guider", "sampler", "sigmas", "latent_image"]},
        "output": ["LATENT", "LATENT"],
        "output_is_list": [False, False],
        "output_name": ["output", "denoised_output"],
        "name": "SamplerCustomAdvanced",
        "display_name": "SamplerCustomAdvanced",
        "description": "",
        "python_module": "comfy_extras.nodes_custom_sampler",
        "category": "sampling/custom_sampling",
        "output_node": False,
    },
    "KSamplerSelect": {
        "input": {"required": {"sampler_name": [SAMPLERS]}},
        "input_order": {"required": ["sampler_name"]},
        "output": ["SAMPLER"],
        "output_is_list": [False],
        "output_name": ["SAMPLER"],
        "name": "KSamplerSelect",
        "display_name": "KSamplerSelect",
        "description": "",
        "python_module": "comfy_extras.nodes_custom_sampler",
        "category": "sampling/custom_sampling/samplers",
        "output_node": False,
    },
    "BasicScheduler": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "scheduler": [SCHEDULERS],
                "steps": ["INT", {"default": 20, "min": 1, "max": 10000}],
                "denoise": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}],
            }
        },
        "input_order": {"required": ["model", "scheduler", "steps", "denoise"]},
        "output": ["SIGMAS"],
        "output_is_list": [False],
        "output_name": ["SIGMAS"],
        "name": "BasicScheduler",
        "display_name": "BasicScheduler",
        "description": "",
        "python_module": "comfy_extras.nodes_custom_sampler",
        "category": "sampling/custom_sampling/schedulers",
        "output_node": False,
    },
    "RandomNoise": {
        "input": {
            "required": {
                "noise_seed": [
                    "INT",
                    {
                        "default": 0,
                        "min": 0,
                        "max": 18446744073709551615,
                        "control_after_generate": True,
                    },
                ]
            }
        },
        "input_order": {"required": ["noise_seed"]},
        "output": ["NOISE"],
        "output_is_list": [False],
        "output_name": ["NOISE"],
        "name": "RandomNoise",
        "display_name": "RandomNoise",
        "description": "",
        "python_module": "comfy_extras.nodes_custom_sampler",
        "category": "sampling/custom_sampling/noise",
        "output_node": False,
    },
    "BasicGuider": {
        "input": {"required": {"model": ["MODEL"], "conditioning": ["CONDITIONING"]}},
        "input_order": {"required": ["model", "conditioning"]},
        "output": ["GUIDER"],
        "output_is_list": [False],
        "output_name": ["GUIDER"],
        "name": "BasicGuider",
        "display_name": "BasicGuider",
        "description": "",
        "python_module": "comfy_extras.nodes_custom_sampler",
        "category": "sampling/custom_sampling/guiders",
        "output_node": False,
    },
    "CFGGuider": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "cfg": [
                    "FLOAT",
                    {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01},
                ],
            }
        },
        "input_order": {"required": ["model", "positive", "negative", "cfg"]},
        "output": ["GUIDER"],
        "output_is_list": [False],
        "output_name": ["GUIDER"],
        "name": "CFGGuider",
        "display_name": "CFGGuider",
        "description": "",
        "python_module": "comfy_extras.nodes_custom_sampler",
        "category": "sampling/custom_sampling/guiders",
        "output_node": False,
    },
}
