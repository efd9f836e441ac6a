"""The GPU catalog with live price and stock, cached briefly, and the four price tiers."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from enum import StrEnum

from comfyhangar.core.errors import InvalidInput
from comfyhangar.runpod import RunPodClient
from comfyhangar.runpod.models import Cloud, DataCenter, GpuType

CATALOG_TTL_S = 30.0


class Tier(StrEnum):
    """Price bands per GPU-hour (secure price, else community): the seed's four."""

    BUDGET = "budget"  # under $0.50
    MID = "mid"  # $0.50 to under $1.00
    HIGH = "high"  # $1.00 to under $2.50
    PREMIUM = "premium"  # $2.50 and up


def tier_of(price_per_hour: Decimal) -> Tier:
    if price_per_hour < Decimal("0.50"):
        return Tier.BUDGET
    if price_per_hour < Decimal("1.00"):
        return Tier.MID
    if price_per_hour < Decimal("2.50"):
        return Tier.HIGH
    return Tier.PREMIUM


def reference_price(gpu: GpuType) -> Decimal:
    """The price a tier is judged by: secure when offered there, else community."""
    secure = gpu.price.secure or Decimal(0)
    community = gpu.price.community or Decimal(0)
    return secure if gpu.secure and secure > 0 else community


def list_price(gpu: GpuType, cloud: Cloud) -> Decimal:
    """List price of one of `gpu` per hour in `cloud` (0 when not offered there)."""
    chosen = gpu.price.secure if cloud is Cloud.SECURE else gpu.price.community
    return chosen or Decimal(0)


class Catalog:
    """GPU types (with availability, per cloud) and data centers, cached for `ttl` seconds."""

    def __init__(self, client: RunPodClient, *, ttl: float = CATALOG_TTL_S) -> None:
        self._client = client
        self._ttl = ttl
        self._gpus: dict[Cloud, tuple[float, list[GpuType]]] = {}
        self._data_centers: tuple[float, list[DataCenter]] | None = None
        self._lock = asyncio.Lock()

    async def gpus(self, cloud: Cloud = Cloud.SECURE) -> list[GpuType]:
        """Every GPU type with its price, largest machine, and stock in `cloud`."""
        async with self._lock:
            cached = self._gpus.get(cloud)
            if cached is not None and time.monotonic() - cached[0] < self._ttl:
                return cached[1]
            gpus = await self._client.list_gpu_types(include_availability=True, cloud=cloud)
            self._gpus[cloud] = (time.monotonic(), gpus)
            return gpus

    async def gpu(self, gpu_id: str, cloud: Cloud = Cloud.SECURE) -> GpuType | None:
        return next((g for g in await self.gpus(cloud) if g.id == gpu_id), None)

    async def price(self, gpu_id: str, cloud: Cloud) -> Decimal:
        """List price of one GPU per hour in `cloud` (0 when the catalog does not know it)."""
        gpu = await self.gpu(gpu_id, cloud)
        return Decimal(0) if gpu is None else list_price(gpu, cloud)

    async def data_centers(self) -> list[DataCenter]:
        async with self._lock:
            if (
                self._data_centers is not None
                and time.monotonic() - self._data_centers[0] < self._ttl
            ):
                return self._data_centers[1]
            centers = await self._client.list_data_centers()
            self._data_centers = (time.monotonic(), centers)
            return centers


def check_offer(gpu: GpuType | None, gpu_id: str, count: int, cloud: Cloud) -> GpuType:
    """The catalog entry for `gpu_id`, or a 422 at `gpu.id` / `gpu.count` when it is unknown,
    not offered in `cloud`, or asked for more GPUs than its largest machine there has. Deploys
    and estimates check alike, so an estimate never prices what cannot be deployed."""
    if gpu is None:
        raise InvalidInput.at("gpu.id", f"unknown GPU type {gpu_id!r}; GET /api/v1/gpus lists them")
    offered = gpu.secure if cloud is Cloud.SECURE else gpu.community
    if not offered:
        raise InvalidInput.at("gpu.id", f"{gpu_id} is not offered in the {cloud.value} cloud")
    largest = gpu.max_count.secure if cloud is Cloud.SECURE else gpu.max_count.community
    if largest and count > largest:
        raise InvalidInput.at(
            "gpu.count", f"{gpu_id} machines have at most {largest} GPUs in {cloud.value}"
        )
    return gpu
