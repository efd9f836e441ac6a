"""`/gpus`: the RunPod GPU catalog with live price, stock and a price tier."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from comfyhangar.runpod.models import Cloud
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.services.catalog import Tier, reference_price, tier_of

router = APIRouter(tags=["gpus"])


class GpuPrices(BaseModel):
    secure: Decimal | None
    community: Decimal | None


class GpuMaxCount(BaseModel):
    secure: int
    community: int


class DataCenterStock(BaseModel):
    id: str
    availability: str


class GpuOffer(BaseModel):
    id: str
    name: str
    manufacturer: str
    vram_gb: int
    tier: Tier
    price_per_hour: GpuPrices
    max_count: GpuMaxCount
    availability: str
    data_centers: list[DataCenterStock]


class GpuCatalog(BaseModel):
    cloud: str
    gpus: list[GpuOffer]


@router.get("/gpus", response_model=GpuCatalog)
async def list_gpus(
    runtime: RuntimeDep, cloud: Annotated[Literal["SECURE", "COMMUNITY"], Query()] = "SECURE"
) -> GpuCatalog:
    """Every GPU type: price per GPU-hour in both clouds, largest machine, stock in `cloud`."""
    gpus = await runtime.catalog.gpus(Cloud(cloud))
    offers = [
        GpuOffer(
            id=g.id,
            name=g.name,
            manufacturer=g.manufacturer,
            vram_gb=g.memory,
            tier=tier_of(reference_price(g)),
            price_per_hour=GpuPrices(
                secure=g.price.secure if g.secure else None,
                community=g.price.community if g.community else None,
            ),
            max_count=GpuMaxCount(secure=g.max_count.secure, community=g.max_count.community),
            availability=(g.availability.value if g.availability else "NONE"),
            data_centers=[
                DataCenterStock(id=dc.id, availability=dc.availability.value)
                for dc in g.data_centers
            ],
        )
        for g in gpus
    ]
    offers.sort(key=lambda o: (o.price_per_hour.secure or o.price_per_hour.community or 0, o.id))
    return GpuCatalog(cloud=cloud, gpus=offers)
