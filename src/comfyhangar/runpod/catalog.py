"""Models of the RunPod v2 catalog (GPU types, data centers), network volumes and templates."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict, model_validator

from comfyhangar.runpod._wire import (
    LenientStr,
    Money,
    NoneAsEmptyList,
    StrMap,
    WireRequest,
    WireResponse,
    lenient_enum,
)


class AvailabilityLevel(StrEnum):
    """Catalog stock level; ordered by `rank` (NONE < LOW < MEDIUM < HIGH)."""

    NONE = "NONE"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"

    @property
    def rank(self) -> int:
        """0 for NONE up to 3 for HIGH."""
        return ["NONE", "LOW", "MEDIUM", "HIGH"].index(self.value)


class VolumeType(StrEnum):
    """Network volume storage tier."""

    STANDARD = "STANDARD"
    HIGH_PERFORMANCE = "HIGH_PERFORMANCE"


_Availability = Annotated[
    AvailabilityLevel, lenient_enum(AvailabilityLevel, AvailabilityLevel.NONE)
]


class GpuPrice(WireResponse):
    """List USD/hour for ONE GPU of the type (multiply by the count)."""

    secure: Money | None = None
    community: Money | None = None
    serverless: Money | None = None


class GpuMaxCount(WireResponse):
    """Largest GPU count of one machine of the type, per cloud (a ceiling, not stock)."""

    secure: int = 0
    community: int = 0


class DataCenterAvailability(WireResponse):
    """Stock of a GPU type in one data center."""

    id: str
    name: str = ""
    availability: _Availability = AvailabilityLevel.NONE


class CudaVersionAvailability(WireResponse):
    """A CUDA version offered with a GPU type, and whether it has free capacity now."""

    version: LenientStr
    available: bool = False


class GpuType(WireResponse):
    """A GPU type from `/v2/catalog/gpus`. Availability fields only with include=AVAILABILITY."""

    id: str
    name: str = ""
    pool: str | None = None
    manufacturer: str = "UNKNOWN"
    memory: int | None = None
    secure: bool = False
    community: bool = False
    price: GpuPrice = Field(default_factory=GpuPrice)
    max_count: GpuMaxCount = Field(default_factory=GpuMaxCount)
    availability: _Availability | None = None
    data_centers: Annotated[list[DataCenterAvailability], NoneAsEmptyList] = Field(
        default_factory=list
    )
    cuda_versions: Annotated[list[CudaVersionAvailability], NoneAsEmptyList] = Field(
        default_factory=list
    )


class CatalogResourceAvailability(WireResponse):
    """Availability of one GPU type or CPU flavor in a data center."""

    id: str
    name: str = ""
    availability: _Availability = AvailabilityLevel.NONE


class DataCenter(WireResponse):
    """A data center from `/v2/catalog/datacenters`."""

    id: str
    name: str = ""
    region: str = "UNKNOWN"
    global_network: bool = False
    network_volume_types: Annotated[list[str], NoneAsEmptyList] = Field(default_factory=list)
    compliance: Annotated[list[str], NoneAsEmptyList] = Field(default_factory=list)
    gpu_availability: Annotated[list[CatalogResourceAvailability], NoneAsEmptyList] = Field(
        default_factory=list
    )
    cpu_availability: Annotated[list[CatalogResourceAvailability], NoneAsEmptyList] = Field(
        default_factory=list
    )


class NetworkVolume(WireResponse):
    """A network volume (`size` in GB; data center and type are fixed at creation)."""

    id: str
    name: str = ""
    size: int = 0
    data_center: str = ""
    type: str = VolumeType.STANDARD.value


class CreateNetworkVolumeRequest(WireRequest):
    """Body of `POST /v2/network-volumes`."""

    name: str = Field(min_length=1)
    size: int = Field(ge=10, le=4096)
    data_center: str = Field(min_length=1)
    type: Annotated[VolumeType, Strict(False)] | None = None


class UpdateNetworkVolumeRequest(WireRequest):
    """Body of `PATCH /v2/network-volumes/{id}`: at least one field; size can only grow."""

    name: str | None = Field(default=None, min_length=1)
    size: int | None = Field(default=None, ge=10, le=4096)

    @model_validator(mode="after")
    def _not_empty(self) -> UpdateNetworkVolumeRequest:
        if self.name is None and self.size is None:
            raise ValueError("set name or size")
        return self


class TemplatePersistentMount(WireResponse):
    """Volume disk a template gives its pods."""

    size: int
    path: str


class TemplateMounts(WireResponse):
    """Mounts of a template (persistent only)."""

    persistent: TemplatePersistentMount | None = None


class Template(WireResponse):
    """A pod or serverless template (own, or public from `/v2/catalog/templates`)."""

    id: str
    name: str = ""
    image: str = ""
    args: str = ""
    disk: int | None = None
    mounts: TemplateMounts = Field(default_factory=TemplateMounts)
    ports: Annotated[list[str], NoneAsEmptyList] = Field(default_factory=list)
    env: StrMap = Field(default_factory=dict, repr=False)
    registry: str | None = None
    serverless: bool = False
    public: bool = False
    category: str = "NVIDIA"
    start_ssh: bool = False
    start_jupyter: bool = False
    allowed_cuda_versions: Annotated[list[str], NoneAsEmptyList] = Field(default_factory=list)
