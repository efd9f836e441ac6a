"""Typed models of RunPod REST v2 pods, pod requests and log events.

Attribute names are snake_case; the wire is camelCase (`Pod.data_center_id` <-> `dataCenterId`).
Responses are lenient, requests strict (see `comfyhangar.runpod._wire`). Catalog, storage,
template and billing models live in `catalog.py` and `billing.py` and are re-exported here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, Strict, model_validator

from comfyhangar.runpod._wire import (
    LenientDatetime,
    LenientStr,
    Money,
    NoneAsEmptyList,
    StrMap,
    WireRequest,
    WireResponse,
    lenient_enum,
)
from comfyhangar.runpod.billing import (
    BillingBucketSize,
    NetworkVolumeBillingAmounts,
    NetworkVolumeBillingMetadata,
    NetworkVolumeBillingQuery,
    NetworkVolumeBillingRecord,
    NetworkVolumeBillingReport,
    PodBillingAmounts,
    PodBillingMetadata,
    PodBillingQuery,
    PodBillingRecord,
    PodBillingReport,
)
from comfyhangar.runpod.catalog import (
    AvailabilityLevel,
    CreateNetworkVolumeRequest,
    CudaVersionAvailability,
    DataCenter,
    DataCenterAvailability,
    GpuMaxCount,
    GpuPrice,
    GpuType,
    NetworkVolume,
    Template,
    TemplateMounts,
    UpdateNetworkVolumeRequest,
    VolumeType,
)

__all__ = [
    "AvailabilityLevel",
    "BillingBucketSize",
    "Cloud",
    "CpuConfig",
    "CreateCpuConfig",
    "CreateGpuConfig",
    "CreateNetworkVolumeRequest",
    "CreatePodRequest",
    "CudaVersionAvailability",
    "DataCenter",
    "DataCenterAvailability",
    "GpuConfig",
    "GpuMaxCount",
    "GpuPrice",
    "GpuType",
    "LogEvent",
    "Mounts",
    "MountsInput",
    "NetworkMount",
    "NetworkMountInput",
    "NetworkVolume",
    "NetworkVolumeBillingAmounts",
    "NetworkVolumeBillingMetadata",
    "NetworkVolumeBillingQuery",
    "NetworkVolumeBillingRecord",
    "NetworkVolumeBillingReport",
    "PersistentMount",
    "PersistentMountInput",
    "Pod",
    "PodAction",
    "PodBillingAmounts",
    "PodBillingMetadata",
    "PodBillingQuery",
    "PodBillingRecord",
    "PodBillingReport",
    "PodCluster",
    "PodGlobalNetworking",
    "PodGpuUtilization",
    "PodRuntime",
    "PodRuntimePort",
    "PodSsh",
    "PodSshEndpoint",
    "PodStatus",
    "Template",
    "TemplateMounts",
    "UpdateNetworkVolumeRequest",
    "UpdatePodRequest",
    "Utilization",
    "VolumeType",
]


class PodStatus(StrEnum):
    """v2 pod lifecycle status. `UNKNOWN` stands for any value this client does not know."""

    PROVISIONING = "PROVISIONING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    EXITED = "EXITED"
    ERROR = "ERROR"
    TERMINATED = "TERMINATED"
    UNKNOWN = "UNKNOWN"


class PodAction(StrEnum):
    """Body of `POST /v2/pods/{id}/action`."""

    START = "start"
    STOP = "stop"
    RESTART = "restart"
    TERMINATE = "terminate"


class Cloud(StrEnum):
    """Cloud tier. `UNKNOWN` only ever appears in responses."""

    SECURE = "SECURE"
    COMMUNITY = "COMMUNITY"
    UNKNOWN = "UNKNOWN"


# ----------------------------------------------------------------------------- responses


class GpuConfig(WireResponse):
    """GPU of a pod: type id and count."""

    id: str
    count: int = 1


class CpuConfig(WireResponse):
    """CPU of a CPU pod: flavor, vCPUs and memory (GB)."""

    id: str
    vcpu_count: int = 0
    memory: int = 0


class PersistentMount(WireResponse):
    """Host-local volume disk: size in GB and mount path."""

    size: int
    path: str


class NetworkMount(WireResponse):
    """A network volume attached at `path`."""

    volume_id: str
    path: str


class Mounts(WireResponse):
    """At most one of `persistent` or `network` is set."""

    persistent: PersistentMount | None = None
    network: Annotated[list[NetworkMount], NoneAsEmptyList] = Field(default_factory=list)


class Utilization(WireResponse):
    """A percentage 0-100."""

    util: int | None = None


class PodGpuUtilization(WireResponse):
    """Utilisation of one GPU."""

    util: int | None = None
    memory_util: int | None = None


class PodRuntimePort(WireResponse):
    """A live port mapping: `private` in the container, `public` on `ip` (tcp) or proxied (http)."""

    private: int
    public: int | None = None
    type: str = ""
    ip: str | None = None


class PodRuntime(WireResponse):
    """Live metrics; RunPod sends null (or `{}` while provisioning) unless RUNNING."""

    uptime: int | None = None
    gpus: Annotated[list[PodGpuUtilization], NoneAsEmptyList] = Field(default_factory=list)
    cpu: Utilization | None = None
    memory: Utilization | None = None
    ports: Annotated[list[PodRuntimePort], NoneAsEmptyList] = Field(default_factory=list)


class PodSshEndpoint(WireResponse):
    """One way to reach the pod over SSH."""

    host: str
    port: int
    username: str
    command: str = ""


class PodSsh(WireResponse):
    """SSH through RunPod's proxy and/or directly over the published `22/tcp`."""

    proxy: PodSshEndpoint | None = None
    direct: PodSshEndpoint | None = None


class PodGlobalNetworking(WireResponse):
    """Private cross-data-center networking of a pod."""

    enabled: bool = False
    ip: str | None = None
    internal_dns: str | None = None


class PodCluster(WireResponse):
    """Cluster membership (cluster pods are not managed through the pod endpoints)."""

    id: str
    rank: int | None = None
    role: str | None = None
    ip: str | None = None


class Pod(WireResponse):
    """A pod as RunPod v2 reports it. `cost` is the current USD/hour (0 when stopped)."""

    id: str
    name: str = ""
    status: Annotated[PodStatus, lenient_enum(PodStatus, PodStatus.UNKNOWN)] = PodStatus.UNKNOWN
    actions: Annotated[list[str], NoneAsEmptyList] = Field(default_factory=list)
    image: str = ""
    args: str = ""
    disk: int | None = None
    mounts: Mounts = Field(default_factory=Mounts)
    ports: Annotated[list[str], NoneAsEmptyList] = Field(default_factory=list)
    env: StrMap = Field(default_factory=dict, repr=False)
    registry: str | None = None
    gpu: GpuConfig | None = None
    cpu: CpuConfig | None = None
    cloud: Annotated[Cloud, lenient_enum(Cloud, Cloud.UNKNOWN)] = Cloud.SECURE
    data_center_id: str | None = None
    cuda_version: LenientStr | None = None
    ssh: PodSsh = Field(default_factory=PodSsh)
    cluster: PodCluster | None = None
    template: str | None = None
    cost: Money = Decimal(0)
    locked: bool = False
    global_networking: PodGlobalNetworking = Field(default_factory=PodGlobalNetworking)
    runtime: PodRuntime | None = None
    created_at: LenientDatetime = None
    started_at: LenientDatetime = None

    @property
    def gpu_type_id(self) -> str | None:
        """The GPU type id, or None for CPU pods."""
        return self.gpu.id if self.gpu else None


class LogEvent(WireResponse):
    """One line of a pod's log stream. `id` is the SSE event id, the resume cursor."""

    id: str
    ts: LenientDatetime = None
    source: str = "container"
    line: str = ""


# ----------------------------------------------------------------------------- requests


class CreateGpuConfig(WireRequest):
    """GPU of a create. `count` is always sent (pitfall P9: omitting it fails as no capacity)."""

    id: str = Field(min_length=1)
    count: int = Field(default=1, ge=1)
    allowed_cuda_versions: list[str] | None = None
    min_cuda_version: str | None = Field(default=None, pattern=r"^\d+\.\d+$")

    @model_validator(mode="after")
    def _cuda_rules(self) -> CreateGpuConfig:
        for version in self.allowed_cuda_versions or []:
            if not _is_cuda_version(version):
                raise ValueError(f"CUDA version must be major.minor, got {version!r}")
        if self.allowed_cuda_versions and self.min_cuda_version:
            raise ValueError("allowed_cuda_versions and min_cuda_version are mutually exclusive")
        return self


class CreateCpuConfig(WireRequest):
    """CPU of a CPU pod create: flavor id and a power-of-two vCPU count."""

    id: str = Field(min_length=1)
    vcpu_count: int = Field(ge=2)


class PersistentMountInput(WireRequest):
    """A volume disk for a create or update: size (GB, at least 10) and path."""

    size: int = Field(ge=10)
    path: str


class NetworkMountInput(WireRequest):
    """Attach network volume `volume_id` at `path` (no default path; use /workspace)."""

    volume_id: str
    path: str


class MountsInput(WireRequest):
    """Mounts of a create or update: at most one of `persistent` or `network`."""

    persistent: PersistentMountInput | None = None
    network: list[NetworkMountInput] | None = Field(default=None, max_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> MountsInput:
        if self.persistent is not None and self.network:
            raise ValueError("mounts: set persistent or network, not both")
        return self


class _ContainerFields(WireRequest):
    image: str | None = None
    args: str | None = None
    disk: int | None = Field(default=None, ge=1)
    ports: list[str] | None = None
    env: dict[str, str] | None = Field(default=None, repr=False)
    registry: str | None = None
    mounts: MountsInput | None = None
    global_networking: bool | None = None
    template_id: str | None = Field(default=None, min_length=1)


class CreatePodRequest(_ContainerFields):
    """Body of `POST /v2/pods`. Exactly one of `gpu`/`cpu`; `image` unless `template_id`."""

    name: str = Field(min_length=1)
    gpu: CreateGpuConfig | None = None
    cpu: CreateCpuConfig | None = None
    cloud: Annotated[Cloud, Strict(False)] | None = None
    data_center_ids: list[str] | None = None
    start_ssh: bool | None = None
    start_jupyter: bool | None = None

    @model_validator(mode="after")
    def _rules(self) -> CreatePodRequest:
        if (self.gpu is None) == (self.cpu is None):
            raise ValueError("set exactly one of gpu or cpu")
        if self.image is None and self.template_id is None:
            raise ValueError("image is required unless template_id is set")
        if self.cloud is Cloud.UNKNOWN:
            raise ValueError("cloud must be SECURE or COMMUNITY")
        return self

    def replace(self, **changes: Any) -> CreatePodRequest:
        """A validated copy with `changes` applied (snake_case field names)."""
        data = {name: getattr(self, name) for name in self.model_fields_set}
        data.update(changes)
        return CreatePodRequest(**data)


class UpdatePodRequest(_ContainerFields):
    """Body of `PATCH /v2/pods/{id}`: only the fields set are changed.

    Set `registry=None` explicitly to clear the registry; `env` replaces the whole env.
    """

    name: str | None = Field(default=None, min_length=1)
    locked: bool | None = None


def _is_cuda_version(value: str) -> bool:
    major, _, minor = value.partition(".")
    return major.isdigit() and minor.isdigit()
