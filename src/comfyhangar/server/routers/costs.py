"""`/estimate` and `/costs`: what a deployment would cost, and what is being spent."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter

from comfyhangar.core.errors import UpstreamUnavailable
from comfyhangar.runpod import RunPodError
from comfyhangar.runpod.models import Cloud
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.costs import CostSummary, Estimate, EstimateRequest
from comfyhangar.server.schemas.deployments import CostProjections
from comfyhangar.server.services.catalog import check_offer, list_price
from comfyhangar.server.services.costs import (
    CENT,
    PROJECTION_HOURS,
    estimate,
    shape_from_spec,
    start_of_day,
    start_of_month,
)

router = APIRouter(tags=["costs"])


@router.post("/estimate", response_model=Estimate)
async def estimate_cost(body: EstimateRequest, runtime: RuntimeDep) -> Estimate:
    """The cost of a deployment before it is made: per hour, per day, per 30 days, stopped."""
    try:
        gpu = await runtime.catalog.gpu(body.gpu.id, Cloud(body.cloud))
    except RunPodError as exc:
        raise UpstreamUnavailable(f"cannot read RunPod's GPU catalog: {exc}") from exc
    cloud = Cloud(body.cloud)
    price = list_price(check_offer(gpu, body.gpu.id, body.gpu.count, cloud), cloud)
    spec = {
        "gpu": {"id": body.gpu.id, "count": body.gpu.count},
        "container_disk_gb": body.container_disk_gb,
        "volume_gb": body.volume_gb,
        "network_volume_id": "planned" if body.network_volume_gb else None,
    }
    figures = estimate(
        shape_from_spec(spec, price), network_volume_gb=body.network_volume_gb, hours=body.hours
    )
    return Estimate(gpu_price_per_hour=price, hours=body.hours, **figures)


@router.get("/costs/summary", response_model=CostSummary)
async def cost_summary(runtime: RuntimeDep) -> CostSummary:
    """Spent today and this month, the burn rate per hour, where it leads, and the RunPod
    balance (read through GraphQL, cached ~60 s; null with the reason when unreadable)."""
    now = runtime.cloud.now()
    # The burn rate is the sum of the deployments' own rates (`current_rate`, as every view
    # shows them) and the network volumes'.
    rates = await runtime.costs.current_rates()
    volumes = (await runtime.costs.volume_rate()).quantize(CENT)
    burn = sum(rates.values(), Decimal(0)) + volumes
    balance, balance_detail = (
        await runtime.billing_check.balance.read()
        if runtime.billing_check is not None
        else (None, "balance reader not running")
    )
    return CostSummary(
        simulated=runtime.cloud.simulated,
        spent_today_usd=await runtime.costs.spent_between(start_of_day(now), now),
        spent_this_month_usd=await runtime.costs.spent_between(start_of_month(now), now),
        burn_rate_per_hour_usd=burn,
        network_volumes_per_hour_usd=volumes,
        projections=CostProjections(**{k: burn * h for k, h in PROJECTION_HOURS.items()}),
        deployments_billing=sum(1 for rate in rates.values() if rate > 0),
        balance_usd=balance,
        balance_detail=balance_detail,
    )
