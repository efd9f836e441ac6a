"""Cost views and the estimate request."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from comfyhangar.server.schemas.deployments import MAX_DISK_GB, CostProjections, GpuRequest


class EstimateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpu: GpuRequest
    cloud: Literal["SECURE", "COMMUNITY"] = "SECURE"
    container_disk_gb: int = Field(default=50, ge=1, le=MAX_DISK_GB)
    volume_gb: int = Field(default=0, ge=0, le=MAX_DISK_GB)
    network_volume_gb: int = Field(default=0, ge=0, le=MAX_DISK_GB)
    hours: Decimal = Field(default=Decimal(1), gt=0, le=24 * 366)

    @model_validator(mode="after")
    def _one_volume(self) -> EstimateRequest:
        if self.volume_gb and self.network_volume_gb:
            raise ValueError("give volume_gb or network_volume_gb, not both")
        return self


class Estimate(BaseModel):
    gpu_price_per_hour: Decimal = Field(description="One GPU, list price in the chosen cloud")
    gpu_per_hour: Decimal
    storage_per_hour: Decimal
    per_hour: Decimal
    per_day: Decimal
    per_month: Decimal = Field(description="30 days of running")
    stopped_per_hour: Decimal = Field(description="What a stopped pod still costs (storage)")
    hours: Decimal
    for_hours: Decimal


class CostSummary(BaseModel):
    simulated: bool
    spent_today_usd: Decimal
    spent_this_month_usd: Decimal
    burn_rate_per_hour_usd: Decimal = Field(
        description="What everything costs per hour now: every deployment's own "
        "`cost.per_hour_usd`, plus the network volumes"
    )
    network_volumes_per_hour_usd: Decimal = Field(
        description="The network volumes' part of the burn rate (they bill on their own)"
    )
    projections: CostProjections
    deployments_billing: int
    balance_usd: Decimal | None = Field(
        default=None, description="RunPod account balance (GraphQL), cached ~60 s; null if unread"
    )
    balance_detail: str | None = Field(
        default=None, description="Why the balance could not be read (null when it was)"
    )
