"""RunPod REST v2 request bodies, hand-encoded from the published contract.

Each schema is closed (unknown properties are a 422), as the spec's
`unevaluatedProperties: false` / `additionalProperties: false` make them.
"""

from __future__ import annotations

from typing import Any

from comfyhangar.emulators.runpod.problems import invalid
from comfyhangar.emulators.runpod.schema import Arr, Bool, Int, Obj, Rule, Str, StrMap

CUDA = r"^\d+\.\d+$"
CLOUDS = ("SECURE", "COMMUNITY")
VOLUME_TYPES = ("STANDARD", "HIGH_PERFORMANCE")
TEMPLATE_CATEGORIES = ("NVIDIA", "AMD", "CPU")
POD_ACTIONS = ("start", "stop", "restart", "terminate")

CONTAINER: dict[str, Rule] = {
    "args": Str(),
    "disk": Int(minimum=1),
    "env": StrMap(),
    "image": Str(),
    "ports": Arr(Str()),
    "registry": Str(nullable=True),
}

PERSISTENT_MOUNT = Obj({"size": Int(minimum=10), "path": Str()}, required=("size", "path"))
NETWORK_MOUNT = Obj({"volumeId": Str(), "path": Str()}, required=("volumeId", "path"))
MOUNTS = Obj({"persistent": PERSISTENT_MOUNT, "network": Arr(NETWORK_MOUNT, max_items=1)})

CREATE_GPU = Obj(
    {
        "id": Str(),
        "count": Int(minimum=1),
        "allowedCudaVersions": Arr(Str(pattern=CUDA)),
        "minCudaVersion": Str(pattern=CUDA),
    },
    required=("id",),
)
CREATE_CPU = Obj(
    {"id": Str(min_length=1), "vcpuCount": Int(minimum=2)}, required=("id", "vcpuCount")
)

CREATE_POD = Obj(
    {
        **CONTAINER,
        "name": Str(min_length=1),
        "cloud": Str(enum=CLOUDS),
        "cpu": CREATE_CPU,
        "dataCenterIds": Arr(Str()),
        "globalNetworking": Bool(),
        "gpu": CREATE_GPU,
        "mounts": MOUNTS,
        "startJupyter": Bool(),
        "startSsh": Bool(),
        "templateId": Str(min_length=1),
    },
    required=("name",),
)

UPDATE_POD = Obj(
    {
        **CONTAINER,
        "globalNetworking": Bool(),
        "locked": Bool(),
        "mounts": MOUNTS,
        "name": Str(min_length=1),
        "templateId": Str(),
    }
)

POD_ACTION = Obj({"action": Str(enum=POD_ACTIONS)}, required=("action",))

CREATE_NETWORK_VOLUME = Obj(
    {
        "dataCenter": Str(min_length=1),
        "name": Str(min_length=1),
        "size": Int(minimum=10, maximum=4096),
        "type": Str(enum=VOLUME_TYPES),
    },
    required=("name", "size", "dataCenter"),
)
UPDATE_NETWORK_VOLUME = Obj(
    {"name": Str(min_length=1), "size": Int(minimum=10, maximum=4096)}, min_properties=1
)

TEMPLATE_MOUNTS = Obj({"persistent": PERSISTENT_MOUNT})
_TEMPLATE_FIELDS: dict[str, Rule] = {
    **CONTAINER,
    "name": Str(min_length=1),
    "allowedCudaVersions": Arr(Str(pattern=CUDA)),
    "category": Str(enum=TEMPLATE_CATEGORIES),
    "mounts": TEMPLATE_MOUNTS,
    "public": Bool(),
    "serverless": Bool(),
    "startJupyter": Bool(),
    "startSsh": Bool(),
}
CREATE_TEMPLATE = Obj(_TEMPLATE_FIELDS, required=("name", "image"))
UPDATE_TEMPLATE = Obj(_TEMPLATE_FIELDS)


def create_pod_errors(body: Any) -> list[str]:
    """Validation errors of a create-pod body (the spec's if/then: image unless templateId)."""
    errors = CREATE_POD.check(body, "$")
    if isinstance(body, dict) and "templateId" not in body and "image" not in body:
        errors.append("$: missing properties 'image'")
    return errors


def validate(rule: Rule, body: Any) -> dict[str, Any]:
    """Return `body` as a dict, or raise the 422 listing every violation."""
    errors = rule.check(body, "$")
    if errors or not isinstance(body, dict):
        raise invalid(errors)
    return body
