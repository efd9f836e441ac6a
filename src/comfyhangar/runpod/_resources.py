"""Catalog, storage, template and billing endpoints of `RunPodClient` (a mixin).

Kept apart from `client.py` (pods, logs, lifecycle) so each module stays short.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field

from comfyhangar.runpod._transport import Transport, parse_model
from comfyhangar.runpod._wire import WireResponse
from comfyhangar.runpod.errors import NotFoundError
from comfyhangar.runpod.models import (
    BillingBucketSize,
    Cloud,
    CreateNetworkVolumeRequest,
    DataCenter,
    GpuType,
    NetworkVolume,
    NetworkVolumeBillingReport,
    PodBillingReport,
    Template,
    UpdateNetworkVolumeRequest,
)


class _GpuList(WireResponse):
    gpus: list[GpuType] = Field(default_factory=list)


class _DataCenterList(WireResponse):
    data_centers: list[DataCenter] = Field(default_factory=list)


class _VolumeList(WireResponse):
    network_volumes: list[NetworkVolume] = Field(default_factory=list)


class _TemplateList(WireResponse):
    templates: list[Template] = Field(default_factory=list)


def path_segment(value: str) -> str:
    """One path segment, percent-encoded (GPU ids contain spaces)."""
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def rfc3339_param(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("billing times must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ResourceEndpoints:
    """Endpoints other than pods; mixed into `RunPodClient`, which provides `_t`."""

    _t: Transport

    async def _get(self, model: type[Any], path: str, params: dict[str, Any] | None = None) -> Any:
        data = await self._t.json("GET", path, params=params)
        return parse_model(model, data, method="GET", path=path)

    # ------------------------------------------------------------------------------ catalog

    async def list_gpu_types(
        self,
        *,
        include_availability: bool = False,
        product: Sequence[str] = ("POD",),
        count: int | None = None,
        cloud: Cloud | str | None = None,
        country_codes: Sequence[str] | None = None,
        cuda_versions: Sequence[str] | None = None,
        min_cuda_version: str | None = None,
    ) -> list[GpuType]:
        """GPU types with list prices; with `include_availability`, stock per data center.

        The availability filters (`count`, `cloud`, `country_codes`, `cuda_versions`,
        `min_cuda_version`) are valid only with `include_availability` (RunPod answers 400).
        """
        params = _gpu_params(
            include_availability, product, count, cloud, country_codes, cuda_versions,
            min_cuda_version,
        )  # fmt: skip
        page: _GpuList = await self._get(_GpuList, "/catalog/gpus", params)
        return page.gpus

    async def get_gpu_type(
        self,
        gpu_type_id: str,
        *,
        include_availability: bool = False,
        product: Sequence[str] = ("POD",),
        count: int | None = None,
        cloud: Cloud | str | None = None,
        country_codes: Sequence[str] | None = None,
        cuda_versions: Sequence[str] | None = None,
        min_cuda_version: str | None = None,
    ) -> GpuType:
        """One GPU type (same filters as `list_gpu_types`)."""
        params = _gpu_params(
            include_availability, product, count, cloud, country_codes, cuda_versions,
            min_cuda_version,
        )  # fmt: skip
        result: GpuType = await self._get(
            GpuType, f"/catalog/gpus/{path_segment(gpu_type_id)}", params
        )
        return result

    async def list_data_centers(
        self,
        *,
        include_gpu_availability: bool = False,
        include_cpu_availability: bool = False,
        regions: Sequence[str] | None = None,
        network_volume_types: Sequence[str] | None = None,
        compliance: Sequence[str] | None = None,
        global_network: bool | None = None,
    ) -> list[DataCenter]:
        """Data centers, optionally with the stock of each GPU type there."""
        params = {
            "include": _includes(include_gpu_availability, include_cpu_availability),
            "regions": list(regions or []),
            "networkVolumeTypes": list(network_volume_types or []),
            "compliance": list(compliance or []),
            "globalNetwork": global_network,
        }
        page: _DataCenterList = await self._get(_DataCenterList, "/catalog/datacenters", params)
        return page.data_centers

    async def get_data_center(
        self, data_center_id: str, *, include_gpu_availability: bool = False
    ) -> DataCenter:
        """One data center."""
        params = {"include": _includes(include_gpu_availability, False)}
        path = f"/catalog/datacenters/{path_segment(data_center_id)}"
        result: DataCenter = await self._get(DataCenter, path, params)
        return result

    # ------------------------------------------------------------------------------ storage

    async def list_network_volumes(self) -> list[NetworkVolume]:
        """Every network volume of the account."""
        page: _VolumeList = await self._get(_VolumeList, "/network-volumes")
        return page.network_volumes

    async def get_network_volume(self, volume_id: str) -> NetworkVolume:
        """One network volume."""
        result: NetworkVolume = await self._get(
            NetworkVolume, f"/network-volumes/{path_segment(volume_id)}"
        )
        return result

    async def create_network_volume(self, request: CreateNetworkVolumeRequest) -> NetworkVolume:
        """Create a network volume: one attempt, never retried (it bills; not idempotent)."""
        data = await self._t.json(
            "POST", "/network-volumes", body=request.to_wire(), idempotent=False
        )
        return parse_model(NetworkVolume, data, method="POST", path="/network-volumes")

    async def update_network_volume(
        self, volume_id: str, request: UpdateNetworkVolumeRequest
    ) -> NetworkVolume:
        """Rename or grow a network volume."""
        path = f"/network-volumes/{path_segment(volume_id)}"
        data = await self._t.json("PATCH", path, body=request.to_wire())
        return parse_model(NetworkVolume, data, method="PATCH", path=path)

    async def delete_network_volume(self, volume_id: str) -> None:
        """Delete a network volume (204). A 404 after an unknown-outcome retry is success."""
        try:
            await self._t.request("DELETE", f"/network-volumes/{path_segment(volume_id)}")
        except NotFoundError as exc:
            if not exc.after_unknown_outcome:
                raise

    # ------------------------------------------------------------------------------ templates

    async def list_templates(self) -> list[Template]:
        """The account's own templates."""
        page: _TemplateList = await self._get(_TemplateList, "/templates")
        return page.templates

    async def get_template(self, template_id: str) -> Template:
        """One template of the account."""
        result: Template = await self._get(Template, f"/templates/{path_segment(template_id)}")
        return result

    async def list_public_templates(self, *, source: str | None = None) -> list[Template]:
        """Public catalog templates (`source`: official (default), verified or community)."""
        page: _TemplateList = await self._get(
            _TemplateList, "/catalog/templates", {"source": source}
        )
        return page.templates

    # ------------------------------------------------------------------------------ billing

    async def pod_billing(
        self,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        bucket_size: BillingBucketSize | str | None = None,
        last_n: int | None = None,
        pod_id: str | None = None,
    ) -> PodBillingReport:
        """Billed amounts per pod per bucket (`last_n` excludes `start_time`/`end_time`)."""
        params = _billing_params(start_time, end_time, bucket_size, last_n)
        params["podId"] = pod_id
        result: PodBillingReport = await self._get(PodBillingReport, "/billing/pods", params)
        return result

    async def network_volume_billing(
        self,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        bucket_size: BillingBucketSize | str | None = None,
        last_n: int | None = None,
        network_volume_id: str | None = None,
    ) -> NetworkVolumeBillingReport:
        """Billed amounts per network volume per bucket."""
        params = _billing_params(start_time, end_time, bucket_size, last_n)
        params["networkVolumeId"] = network_volume_id
        result: NetworkVolumeBillingReport = await self._get(
            NetworkVolumeBillingReport, "/billing/network-volumes", params
        )
        return result


def _includes(gpu: bool, cpu: bool) -> list[str]:
    return [name for name, on in (("GPU_AVAILABILITY", gpu), ("CPU_AVAILABILITY", cpu)) if on]


def _gpu_params(
    include_availability: bool,
    product: Sequence[str],
    count: int | None,
    cloud: Cloud | str | None,
    country_codes: Sequence[str] | None,
    cuda_versions: Sequence[str] | None,
    min_cuda_version: str | None,
) -> dict[str, Any]:
    filters = {
        "count": count,
        "cloud": cloud,
        "countryCodes": list(country_codes or []),
        "cudaVersions": list(cuda_versions or []),
        "minCudaVersion": min_cuda_version,
    }
    if not include_availability:
        if any(v not in (None, []) for v in filters.values()):
            raise ValueError("availability filters need include_availability=True")
        return {}
    if cuda_versions and min_cuda_version:
        raise ValueError("cuda_versions and min_cuda_version are mutually exclusive")
    if not product:
        raise ValueError("include_availability needs at least one product")
    return {"include": ["AVAILABILITY"], "product": list(product), **filters}


def _billing_params(
    start_time: datetime | None,
    end_time: datetime | None,
    bucket_size: BillingBucketSize | str | None,
    last_n: int | None,
) -> dict[str, Any]:
    if last_n is not None:
        if start_time is not None or end_time is not None:
            raise ValueError("last_n is mutually exclusive with start_time/end_time")
        if last_n < 1:
            raise ValueError("last_n must be at least 1")
    size = BillingBucketSize(bucket_size) if bucket_size is not None else None
    return {
        "startTime": rfc3339_param(start_time),
        "endTime": rfc3339_param(end_time),
        "bucketSize": size,
        "lastN": last_n,
    }
