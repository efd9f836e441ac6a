"""Views of spend over time (shaped for charts) and of the reconciliation with RunPod billing.

Amounts are USD as decimal strings with 6 decimals, like every cost figure of the API.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class DeploymentAmount(BaseModel):
    deployment_id: str
    name: str | None = Field(description="The deployment's name (null if it was deleted)")
    amount_usd: Decimal


class GpuAmount(BaseModel):
    gpu_type_id: str | None
    amount_usd: Decimal


class SpendTotals(BaseModel):
    total_usd: Decimal = Field(description="gpu_usd + storage_usd")
    gpu_usd: Decimal = Field(description="GPU compute")
    storage_usd: Decimal = Field(description="Container and volume disks, and network volumes")
    network_volume_usd: Decimal = Field(
        description="Network volumes (part of storage_usd; the account's, in no deployment)"
    )


class HistoryBucket(SpendTotals):
    start: datetime
    end: datetime
    complete: bool = Field(description="False for the bucket still in progress (or cut short)")
    by_deployment: list[DeploymentAmount] = Field(
        description="Every deployment of the window, in the order of `deployments`, 0 if idle; "
        "with network_volume_usd they add up to total_usd"
    )
    by_gpu: list[GpuAmount] = Field(
        description="Every GPU type of the window, in the order of `gpu_types`, 0 if idle"
    )


class CostHistory(BaseModel):
    bucket: Literal["hour", "day", "week", "month"]
    start: datetime
    end: datetime
    currency: Literal["USD"] = "USD"
    totals: SpendTotals
    deployments: list[DeploymentAmount] = Field(description="Series, most expensive first")
    gpu_types: list[GpuAmount] = Field(description="Series, most expensive first")
    buckets: list[HistoryBucket] = Field(description="Oldest first, with no gaps")


class DeploymentSpend(SpendTotals):
    deployment_id: str
    name: str | None


class CostsByDeployment(BaseModel):
    start: datetime
    end: datetime
    totals: SpendTotals
    deployments: list[DeploymentSpend] = Field(description="Most expensive first")


class GpuSpend(SpendTotals):
    gpu_type_id: str | None
    gpu_hours: Decimal = Field(description="GPU-hours billed (GPU count x hours running)")


class CostsByGpu(BaseModel):
    start: datetime
    end: datetime
    totals: SpendTotals
    gpu_types: list[GpuSpend] = Field(description="Most expensive first")


class ReconciliationRow(BaseModel):
    kind: Literal["pod", "network_volume"]
    pod_id: str | None
    network_volume_id: str | None
    deployment_id: str | None
    deployment_name: str | None = Field(description="For a network volume: the volume's name")
    bucket_start: datetime
    bucket_end: datetime
    metered_usd: Decimal = Field(description="What the meter recorded for it in this hour")
    billed_usd: Decimal = Field(description="What RunPod's /v2/billing/* says")
    difference_usd: Decimal = Field(description="metered - billed")
    difference_pct: Decimal | None = Field(description="Of the billed figure; null if 0 billed")
    status: Literal["match", "mismatch", "pending"] = Field(
        description="pending: the hour is in progress, RunPod may not have billed it yet, "
        "or the meter has not passed its end"
    )


class ReconciliationTotals(BaseModel):
    metered_usd: Decimal
    billed_usd: Decimal
    difference_usd: Decimal
    difference_pct: Decimal | None


class Reconciliation(BaseModel):
    checked_at: datetime = Field(description="When the comparison was made (cloud clock)")
    start: datetime
    end: datetime
    bucket: Literal["hour"] = "hour"
    tolerance_pct: Decimal = Field(description="Differences above this share are mismatches")
    min_difference_usd: Decimal = Field(description="...and only when at least this large")
    settle_minutes: Decimal = Field(description="How long after an hour ends it is compared")
    totals: ReconciliationTotals = Field(description="Over settled rows only")
    pending: ReconciliationTotals = Field(description="Over rows not settled yet")
    mismatches: int
    unmanaged_billed_usd: Decimal = Field(
        description="Billed by RunPod for pods of the account that ComfyHangar does not manage"
    )
    error: str | None = Field(default=None, description="Why RunPod's billing could not be read")
    rows: list[ReconciliationRow] = Field(
        description="Per pod (or network volume) per hour: by resource, then oldest first"
    )
