"""Deployment requests and views.

Input is strict: unknown fields, bad names, impossible disks or env names are a 422 that
names the field, before anything is stored or sent to RunPod. Checks that need the GPU
catalog (unknown GPU, count above its largest machine) happen in the service, with the same
422 shape.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.core.setup_progress import SetupStepName
from comfyhangar.server.schemas.env_names import env_name_refusal
from comfyhangar.server.schemas.idle import IdlePolicyInput, IdleView
from comfyhangar.server.schemas.patterns import LABEL_REGEX, pattern

DEFAULT_IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"
MIN_CONTAINER_DISK_GB = 20
MAX_DISK_GB = 4096
MAX_GPU_COUNT = 16
DEFAULT_VOLUME_GB = 100
MAX_ENV_VARS = 64
MAX_ENV_VALUE_CHARS = 32_768
TOKEN_REGEX = r"^[A-Za-z0-9._~+/=-]{1,512}$"  # noqa: S105 - a pattern, not a token
TOKEN_CHARS = re.compile(TOKEN_REGEX)
SECRET_FIELDS = frozenset({"hf_token", "civitai_token"})
# Kept in their own columns, not in the stored spec.
NOT_IN_SPEC = SECRET_FIELDS | {"idle"}

Name = Annotated[
    str,
    pattern(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        "use 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit",
    ),
    Field(
        description="1-40 characters: letters, digits, '.', '_', '-'; starts alphanumeric",
        examples=["flux-dev"],
    ),
]
GpuTypeId = Annotated[
    str,
    pattern(LABEL_REGEX, "printable characters, no leading or trailing space", max_length=128),
    Field(examples=["NVIDIA GeForce RTX 4090"]),
]
DataCenterId = Annotated[
    str,
    pattern(r"^[A-Z]{2,3}-[A-Z]{2}-\d{1,2}$", "a RunPod data center id such as EU-RO-1"),
    Field(examples=["EU-RO-1"]),
]
PresetId = Annotated[
    str,
    pattern(r"^[a-z0-9][a-z0-9-]{0,63}$", "a preset id from GET /api/v1/presets"),
    Field(examples=["flux-schnell"]),
]


def _allowed_env_name(name: str) -> str:
    refusal = env_name_refusal(name)
    if refusal is not None:
        raise ValueError(refusal)
    return name


EnvName = Annotated[
    str,
    pattern(
        r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
        "a variable name: letters, digits and '_', not starting with a digit",
    ),
    AfterValidator(_allowed_env_name),
    Field(examples=["COMFYUI_ARGS"]),
]
EnvValue = Annotated[str, StringConstraints(max_length=MAX_ENV_VALUE_CHARS)]
Image = Annotated[
    str,
    pattern(
        r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$",
        "a container image such as runpod/comfyui:latest (lowercase repository, optional tag "
        "or @sha256 digest)",
        max_length=255,
    ),
    Field(examples=[DEFAULT_IMAGE]),
]


def _token_chars(token: SecretStr) -> SecretStr:
    # `fullmatch`: a `$` in Python's re also matches before a final newline.
    if not TOKEN_CHARS.fullmatch(token.get_secret_value()):
        raise ValueError("not a valid token: 1-512 letters, digits and . _ ~ + / = -")
    return token


# Write-only: kept server-side, never shown again. The schema states the characters allowed.
Token = Annotated[
    SecretStr,
    AfterValidator(_token_chars),
    WithJsonSchema(
        {
            "type": "string",
            "format": "password",
            "writeOnly": True,
            "pattern": TOKEN_REGEX,
            "examples": ["hf_0123456789abcdefghijklmnopqrstuv"],
        }
    ),
]
# Integers are strict: a boolean is not a count (`true` is not 1), nor is `1.0` or "1".
DiskGb = Annotated[int, Field(strict=True, le=MAX_DISK_GB)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GpuRequest(_Strict):
    id: GpuTypeId = Field(description="RunPod GPU type id, e.g. 'NVIDIA GeForce RTX 4090'")
    count: int = Field(default=1, ge=1, le=MAX_GPU_COUNT, strict=True)


class DeploymentCreate(_Strict):
    """What a user asks for: a pod with ComfyUI, its GPU, disks, image, install manifest."""

    name: Name
    gpu: GpuRequest
    fallback_gpu_ids: list[GpuTypeId] = Field(default_factory=list, max_length=8)
    cloud: Literal["SECURE", "COMMUNITY"] = "SECURE"
    data_center_ids: list[DataCenterId] = Field(default_factory=list, max_length=32)
    container_disk_gb: DiskGb = Field(default=50, ge=MIN_CONTAINER_DISK_GB)
    volume_gb: DiskGb | None = Field(default=None, ge=10)
    network_volume_id: (
        Annotated[
            str,
            pattern(r"^[a-z0-9]{6,32}$", "a network volume id: 6-32 lowercase letters and digits"),
            Field(examples=["agv6w2qcg7"]),
        ]
        | None
    ) = None
    image: Image = DEFAULT_IMAGE
    preset: PresetId | None = Field(
        default=None, description="Start from this preset (GET /api/v1/presets)"
    )
    manifest: dict[str, Any] = Field(
        default_factory=dict,
        description="What to install (schema: the pod agent's manifest); with a preset, "
        "what to add to it",
    )
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=MAX_ENV_VARS,
        description="Environment variables for the pod; names that steer git, pip, Python, "
        "the loader or downloads are refused (docs/api.md)",
    )
    hf_token: Token | None = Field(
        default=None,
        description="Write-only: Hugging Face token for gated models (never shown again)",
    )
    civitai_token: Token | None = Field(
        default=None, description="Write-only: Civitai API token (never shown again)"
    )
    idle: IdlePolicyInput | None = Field(
        default=None,
        description="Idle policy: what is left out follows the server default (HANGAR_IDLE_*)",
    )

    @model_validator(mode="after")
    def _rules(self) -> DeploymentCreate:
        if self.volume_gb is not None and self.network_volume_id is not None:
            raise ValueError("give volume_gb or network_volume_id, not both")
        if self.network_volume_id is None and self.volume_gb is None:
            self.volume_gb = DEFAULT_VOLUME_GB
        if self.gpu.id in self.fallback_gpu_ids:
            raise ValueError("fallback_gpu_ids must not repeat gpu.id")
        if self.network_volume_id is not None and self.cloud != "SECURE":
            raise ValueError("network volumes need cloud SECURE")
        return self


class GpuView(BaseModel):
    id: str
    count: int


class PodView(BaseModel):
    """RunPod's view of the deployment's pod."""

    id: str
    status: str
    cost_per_hour: Decimal
    data_center_id: str | None
    uptime_s: int | None = None
    gpu_util: list[int] = Field(default_factory=list)
    gpu_memory_util: list[int] = Field(default_factory=list)
    cpu_util: int | None = None
    memory_util: int | None = None
    last_seen_at: datetime


class StateChange(BaseModel):
    state: DeploymentState
    at: datetime
    reason: str | None = None


class SetupStep(BaseModel):
    step: SetupStepName
    status: str
    item: str | None = Field(
        default=None, description="The file or node in flight (while `running`)"
    )
    message: str | None = None
    bytes_done: int | None = None
    bytes_total: int | None = None
    speed_bps: float | None = None
    eta_s: float | None = None
    updated_at: str | None = None


class CostProjections(BaseModel):
    """What the current rate costs over the next hour, day, week and 30 days."""

    hour: Decimal
    day: Decimal
    week: Decimal
    month: Decimal


class DeploymentCostView(BaseModel):
    so_far_usd: Decimal = Field(
        description="What the meter billed up to `metered_until` (one reconcile cycle ago at "
        "most); never goes down"
    )
    per_hour_usd: Decimal = Field(
        description="What it costs per hour in its state now: GPU while the pod runs, storage "
        "by the pod's status (the volume while stopped), 0 once terminated"
    )
    metered_until: datetime | None
    projections: CostProjections


class DeploymentLinks(BaseModel):
    self: str
    logs: str
    events: str
    comfyui: str | None = None


class DeploymentView(BaseModel):
    """A deployment as the API shows it."""

    id: str
    name: str
    state: DeploymentState
    desired_state: Desired
    reason: str | None
    simulated: bool = Field(
        description="True when the cloud is the built-in emulator: nothing bills"
    )
    gpu: GpuView
    cloud: str
    image: str
    container_disk_gb: int
    volume_gb: int | None
    network_volume_id: str | None
    created_at: datetime
    updated_at: datetime
    pod: PodView | None
    setup: list[SetupStep]
    cost: DeploymentCostView
    idle: IdleView
    links: DeploymentLinks


class DeploymentDetail(DeploymentView):
    history: list[StateChange]


class DeploymentList(BaseModel):
    deployments: list[DeploymentView]


class LogLineView(BaseModel):
    id: int
    ts: datetime
    source: str
    line: str


class LogTail(BaseModel):
    deployment_id: str
    lines: list[LogLineView]
