"""ComfyUI 0.3.64's primitives and PreviewAny: `/object_info` entries.

Written to equal what ComfyUI itself reports for these classes (checked against a real server's
snapshot by tests/comfyui/test_emulator_nodes.py). File lists are placeholders that
`nodes.placeholders.resolve` fills from the emulated pod.
"""

from __future__ import annotations

from typing import Any

DEFINITIONS: dict[str, dict[str, Any]] = {
    "PreviewAny": {
        "input": {"required": {"source": ["*", {}]}},
        "input_order": {"required": ["source"]},
        "output": [],
        "output_is_list": [],
        "output_name": [],
        "name": "PreviewAny",
        "display_name": "Preview Any",
        "description": "",
        "python_module": "comfy_extras.nodes_preview_any",
        "category": "utils",
        "output_node": True,
    },
    "PrimitiveInt": {
        "input": {
            "required": {
                "value": [
                    "INT",
                    {
                        "min": -9223372036854775807,
                        "max": 9223372036854775807,
                        "control_after_generate": True,
                    },
                ]
            }
        },
        "input_order": {"required": ["value"]},
        "output": ["INT"],
        "output_is_list": [False],
        "output_name": ["INT"],
        "output_tooltips": [None],
        "name": "PrimitiveInt",
        "display_name": "Int",
        "description": "",
        "python_module": "comfy_extras.nodes_primitive",
        "category": "utils/primitive",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "PrimitiveFloat": {
        "input": {
            "required": {
                "value": ["FLOAT", {"min": -9223372036854775807, "max": 9223372036854775807}]
            }
        },
        "input_order": {"required": ["value"]},
        "output": ["FLOAT"],
        "output_is_list": [False],
        "output_name": ["FLOAT"],
        "output_tooltips": [None],
        "name": "PrimitiveFloat",
        "display_name": "Float",
        "description": "",
        "python_module": "comfy_extras.nodes_primitive",
        "category": "utils/primitive",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "PrimitiveString": {
        "input": {"required": {"value": ["STRING", {"multiline": False}]}},
        "input_order": {"required": ["value"]},
        "output": ["STRING"],
        "output_is_list": [False],
        "output_name": ["STRING"],
        "output_tooltips": [None],
        "name": "PrimitiveString",
        "display_name": "String",
        "description": "",
        "python_module": "comfy_extras.nodes_primitive",
        "category": "utils/primitive",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "PrimitiveStringMultiline": {
        "input": {"required": {"value": ["STRING", {"multiline": True}]}},
        "input_order": {"required": ["value"]},
        "output": ["STRING"],
        "output_is_list": [False],
        "output_name": ["STRING"],
        "output_tooltips": [None],
        "name": "PrimitiveStringMultiline",
        "display_name": "String (Multiline)",
        "description": "",
        "python_module": "comfy_extras.nodes_primitive",
        "category": "utils/primitive",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "PrimitiveBoolean": {
        "input": {"required": {"value": ["BOOLEAN", {}]}},
        "input_order": {"required": ["value"]},
        "output": ["BOOLEAN"],
        "output_is_list": [False],
        "output_name": ["BOOLEAN"],
        "output_tooltips": [None],
        "name": "PrimitiveBoolean",
        "display_name": "Boolean",
        "description": "",
        "python_module": "comfy_extras.nodes_primitive",
        "category": "utils/primitive",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
}
