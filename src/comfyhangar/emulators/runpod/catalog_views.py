"""`/v2/catalog/gpus`, `/v2/catalog/datacenters`, `/v2/catalog/templates`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from comfyhangar.emulators.runpod.asgi import json_response
from comfyhangar.emulators.runpod.catalog import (
    GPU_TYPES,
    GPUS_BY_ID,
    SERVERLESS_POOL_PRICE,
    GpuType,
)
from comfyhangar.emulators.runpod.locations import DATA_CENTERS, DCS_BY_ID, cuda_versions_at
from comfyhangar.emulators.runpod.pods import cuda_key
from comfyhangar.emulators.runpod.problems import bad_request, not_found
from comfyhangar.emulators.runpod.query import boolean, choice, csv, integer, pattern_list

if TYPE_CHECKING:
    from comfyhangar.emulators.runpod.emulator import RunPodEmulator

LEVELS = ("NONE", "LOW", "MEDIUM", "HIGH")
REGIONS = (
    "NORTH_AMERICA", "SOUTH_AMERICA", "EUROPE", "ASIA", "MIDDLE_EAST", "AFRICA", "OCEANIA",
    "ANTARCTICA", "UNKNOWN",
)  # fmt: skip
COMPLIANCE = (
    "GDPR", "ISO_IEC_27001", "ISO_14001", "PCI_DSS", "HITRUST", "SOC_1_TYPE_2", "SOC_2_TYPE_2",
    "SOC_3_TYPE_2", "ITAR", "FISMA_HIGH", "HIPAA", "RENEWABLE",
)  # fmt: skip
VOLUME_TYPES = ("STANDARD", "HIGH_PERFORMANCE")


def level(free: int, count: int = 1) -> str:
    """Stock level for machines of `count` GPUs: NONE, LOW (1-2), MEDIUM (3-7), HIGH (8+)."""
    units = free // max(count, 1)
    return "NONE" if units == 0 else "LOW" if units < 3 else "MEDIUM" if units < 8 else "HIGH"


@dataclass(frozen=True)
class AvailabilityQuery:
    count: int
    cloud: str
    countries: list[str] | None
    cuda_versions: list[str] | None
    min_cuda: str | None

    def cuda_ok(self, version: str) -> bool:
        if self.cuda_versions is not None:
            return version in self.cuda_versions
        if self.min_cuda is not None:
            floor = cuda_key(self.min_cuda)
            return cuda_key(version)[: len(floor)] >= floor
        return True


def availability_query(request: Request) -> AvailabilityQuery | None:
    """The AVAILABILITY expansion asked for, None without it; 400/422 as the spec says."""
    include = csv(request, "include", ("AVAILABILITY",))
    product = csv(request, "product", ("POD", "CLUSTER", "SERVERLESS"))
    filters = ("count", "cloud", "countryCodes", "cudaVersions", "minCudaVersion")
    count = integer(request, "count", minimum=1)
    cloud = choice(request, "cloud", ("SECURE", "COMMUNITY"))
    countries = pattern_list(request, "countryCodes", r"^[A-Z]{2}$")
    cuda_versions = pattern_list(request, "cudaVersions", r"^\d+\.\d+$")
    min_cuda = pattern_list(request, "minCudaVersion", r"^\d+(\.\d+)?$")
    if not include:
        used = [name for name in ("product", *filters) if name in request.query_params]
        if used:
            raise bad_request(f"{used[0]} is only valid with include=AVAILABILITY")
        return None
    if not product:
        raise bad_request("product is required with include=AVAILABILITY")
    if cuda_versions is not None and min_cuda is not None:
        raise bad_request("cudaVersions and minCudaVersion are mutually exclusive")
    return AvailabilityQuery(
        count or 1, cloud or "SECURE", countries, cuda_versions, min_cuda[0] if min_cuda else None
    )


def _price(gpu: GpuType) -> dict[str, float]:
    price = {"secure": float(gpu.secure_price), "community": float(gpu.community_price)}
    if gpu.pool in SERVERLESS_POOL_PRICE:
        price["serverless"] = float(SERVERLESS_POOL_PRICE[gpu.pool])
    return price


def gpu_body(emu: RunPodEmulator, gpu: GpuType, query: AvailabilityQuery | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": gpu.id,
        "name": gpu.name,
        "pool": gpu.pool,
        "manufacturer": gpu.manufacturer,
        "memory": gpu.memory,
        "secure": gpu.secure,
        "community": gpu.community,
        "price": _price(gpu),
        "maxCount": {"secure": gpu.max_secure, "community": gpu.max_community},
    }
    if query is None:
        return body
    stock = emu.stock_levels(query.cloud)
    data_centers: list[dict[str, str]] = []
    versions: dict[str, bool] = {}
    for dc in DATA_CENTERS:
        if (gpu.id, dc.id) not in stock:
            continue
        if query.countries is not None and dc.country not in query.countries:
            continue
        dc_versions = [v for v in cuda_versions_at(gpu, dc.id) if query.cuda_ok(v)]
        if gpu.cuda and not dc_versions:
            continue
        dc_level = level(stock[(gpu.id, dc.id)], query.count)
        data_centers.append({"id": dc.id, "name": dc.name, "availability": dc_level})
        for version in dc_versions:
            versions[version] = versions.get(version, False) or dc_level != "NONE"
    overall = max((dc["availability"] for dc in data_centers), key=LEVELS.index, default="NONE")
    body["availability"] = overall
    if data_centers:
        body["dataCenters"] = data_centers
    if versions:
        ordered = sorted(versions, key=cuda_key, reverse=True)
        body["cudaVersions"] = [{"version": v, "available": versions[v]} for v in ordered]
    return body


async def list_gpus(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    query = availability_query(request)
    gpus = [gpu_body(emu, gpu, query) for gpu in GPU_TYPES]
    if query is not None and query.countries is not None:
        gpus = [gpu for gpu in gpus if "dataCenters" in gpu]
    return json_response({"gpus": gpus})


async def get_gpu(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    gpu = GPUS_BY_ID.get(path["id"])
    if gpu is None:
        raise not_found("gpu type")
    return json_response(gpu_body(emu, gpu, availability_query(request)))


def dc_body(emu: RunPodEmulator, dc_id: str, include: list[str]) -> dict[str, Any]:
    dc = DCS_BY_ID[dc_id]
    body: dict[str, Any] = {
        "id": dc.id,
        "name": dc.name,
        "region": dc.region,
        "globalNetwork": dc.global_network,
        "networkVolumeTypes": list(dc.volume_types),
        "compliance": list(dc.compliance),
    }
    if "GPU_AVAILABILITY" in include:
        free: dict[str, int] = {}
        for cloud in ("SECURE", "COMMUNITY"):
            for (gpu_id, where), n in emu.stock_levels(cloud).items():
                if where == dc_id:
                    free[gpu_id] = free.get(gpu_id, 0) + n
        offered = [
            {"id": gpu.id, "name": gpu.name, "availability": level(free[gpu.id])}
            for gpu in GPU_TYPES
            if gpu.id in free
        ]
        if offered:
            body["gpuAvailability"] = offered
    return body


async def list_datacenters(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    include = csv(request, "include", ("GPU_AVAILABILITY", "CPU_AVAILABILITY")) or []
    regions = csv(request, "regions", REGIONS)
    volume_types = csv(request, "networkVolumeTypes", VOLUME_TYPES) or []
    compliance = csv(request, "compliance", COMPLIANCE) or []
    global_network = boolean(request, "globalNetwork")
    chosen = [
        dc.id
        for dc in DATA_CENTERS
        if (regions is None or dc.region in regions)
        and all(t in dc.volume_types for t in volume_types)
        and all(c in dc.compliance for c in compliance)
        and (global_network is None or dc.global_network == global_network)
    ]
    return json_response({"dataCenters": [dc_body(emu, dc_id, include) for dc_id in chosen]})


async def get_datacenter(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    if path["id"] not in DCS_BY_ID:
        raise not_found("data center")
    include = csv(request, "include", ("GPU_AVAILABILITY", "CPU_AVAILABILITY")) or []
    return json_response(dc_body(emu, path["id"], include))


async def list_catalog_templates(
    emu: RunPodEmulator, request: Request, _: dict[str, str]
) -> Response:
    source = choice(request, "source", ("official", "verified", "community")) or "official"
    templates = emu.templates(owned=False) if source == "official" else []
    return json_response({"templates": templates})
