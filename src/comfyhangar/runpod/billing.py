"""Models of RunPod v2 billing: `/v2/billing/pods` and `/v2/billing/network-volumes`.

Amounts are USD as `Decimal` (exact; numbers or numeric strings accepted). Each record covers the
half-open bucket `[start_time, end_time)`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from comfyhangar.runpod._wire import LenientDatetime, Money, NoneAsEmptyList, WireResponse

_ZERO = Decimal(0)


class BillingBucketSize(StrEnum):
    """Length of a billing bucket."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class PodBillingAmounts(WireResponse):
    """Pod cost split (USD)."""

    total_amount: Money = _ZERO
    gpu_amount: Money = _ZERO
    cpu_amount: Money = _ZERO
    disk_amount: Money = _ZERO


class PodBillingRecord(PodBillingAmounts):
    """What one pod cost in one bucket."""

    start_time: LenientDatetime = None
    end_time: LenientDatetime = None
    pod_id: str = ""


class PodBillingQuery(WireResponse):
    """The window RunPod resolved for the query (snapped to bucket boundaries)."""

    start_time: LenientDatetime = None
    end_time: LenientDatetime = None
    bucket_size: str | None = None
    pod_id: str | None = None


class PodBillingMetadata(WireResponse):
    """Echo of the query, counts and totals."""

    query: PodBillingQuery = Field(default_factory=PodBillingQuery)
    record_count: int = 0
    unique_pod_count: int = 0
    totals: PodBillingAmounts = Field(default_factory=PodBillingAmounts)


class PodBillingReport(WireResponse):
    """Response of `GET /v2/billing/pods`."""

    records: Annotated[list[PodBillingRecord], NoneAsEmptyList] = Field(default_factory=list)
    metadata: PodBillingMetadata = Field(default_factory=PodBillingMetadata)


class NetworkVolumeBillingAmounts(WireResponse):
    """Network volume storage cost split (USD)."""

    total_amount: Money = _ZERO
    standard_amount: Money = _ZERO
    high_performance_amount: Money = _ZERO


class NetworkVolumeBillingRecord(NetworkVolumeBillingAmounts):
    """What one network volume cost in one bucket."""

    start_time: LenientDatetime = None
    end_time: LenientDatetime = None
    network_volume_id: str = ""


class NetworkVolumeBillingQuery(WireResponse):
    """The window RunPod resolved for the query."""

    start_time: LenientDatetime = None
    end_time: LenientDatetime = None
    bucket_size: str | None = None
    network_volume_id: str | None = None


class NetworkVolumeBillingMetadata(WireResponse):
    """Echo of the query, counts and totals."""

    query: NetworkVolumeBillingQuery = Field(default_factory=NetworkVolumeBillingQuery)
    record_count: int = 0
    unique_network_volume_count: int = 0
    totals: NetworkVolumeBillingAmounts = Field(default_factory=NetworkVolumeBillingAmounts)


class NetworkVolumeBillingReport(WireResponse):
    """Response of `GET /v2/billing/network-volumes`."""

    records: Annotated[list[NetworkVolumeBillingRecord], NoneAsEmptyList] = Field(
        default_factory=list
    )
    metadata: NetworkVolumeBillingMetadata = Field(default_factory=NetworkVolumeBillingMetadata)
