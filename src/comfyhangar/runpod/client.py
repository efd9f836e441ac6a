"""`RunPodClient`: an async client of RunPod REST v2 (`https://api.runpod.io/v2`).

    async with RunPodClient(api_key) as runpod:
        pods = await runpod.list_pods()

Every method maps one endpoint, returns typed models (`comfyhangar.runpod.models`) and raises
the typed errors of `comfyhangar.runpod.errors`. Reads, PATCH, DELETE and the pod actions are
retried per the client's `RetryPolicy`; creates are sent exactly once (use
`comfyhangar.runpod.provisioning.create_tagged_pod` for a safe, reconciled create).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import Field

from comfyhangar import __version__
from comfyhangar.runpod._logs import LogStreamer
from comfyhangar.runpod._transport import Transport, parse_model
from comfyhangar.runpod._wire import WireResponse
from comfyhangar.runpod.errors import ConflictError, NotFoundError, RunPodError
from comfyhangar.runpod.models import (
    BillingBucketSize,
    Cloud,
    CreateNetworkVolumeRequest,
    CreatePodRequest,
    DataCenter,
    GpuType,
    LogEvent,
    NetworkVolume,
    NetworkVolumeBillingReport,
    Pod,
    PodAction,
    PodBillingReport,
    PodStatus,
    Template,
    UpdateNetworkVolumeRequest,
    UpdatePodRequest,
)
from comfyhangar.runpod.retry import DEFAULT_RETRY_POLICY, RetryPolicy

DEFAULT_BASE_URL = "https://api.runpod.io/v2"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"comfyhangar/{__version__}"
#: A cap on pages followed by `list_pods` (protects against a cursor that never ends).
MAX_PAGES = 10_000

# Statuses showing that a repeated action had already taken effect.
_ACTION_DONE: dict[PodAction, frozenset[PodStatus]] = {
    PodAction.START: frozenset({PodStatus.PROVISIONING, PodStatus.STARTING, PodStatus.RUNNING}),
    PodAction.STOP: frozenset({PodStatus.EXITED}),
    PodAction.RESTART: frozenset({PodStatus.STARTING, PodStatus.RUNNING}),
}


class _Pagination(WireResponse):
    next_cursor: str | None = None
    has_next_page: bool | None = None


class _PodPage(WireResponse):
    pods: list[Pod] = Field(default_factory=list)
    pagination: _Pagination | None = None


class _GpuList(WireResponse):
    gpus: list[GpuType] = Field(default_factory=list)


class _DataCenterList(WireResponse):
    data_centers: list[DataCenter] = Field(default_factory=list)


class _VolumeList(WireResponse):
    network_volumes: list[NetworkVolume] = Field(default_factory=list)


class _TemplateList(WireResponse):
    templates: list[Template] = Field(default_factory=list)


def _seg(value: str) -> str:
    """One path segment, percent-encoded (GPU ids contain spaces)."""
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def _rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("billing times must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class RunPodClient:
    """Async RunPod REST v2 client. Use as an async context manager, or call `aclose()`.

    `transport` replaces the network (tests pass `httpx.MockTransport`). The API key is never
    logged and never appears in `repr()` or in an exception's text.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        log_idle_timeout: float = 60.0,
    ) -> None:
        if not api_key:
            raise ValueError("a RunPod API key is required")
        self.base_url = base_url.rstrip("/")
        self.retry_policy = retry or DEFAULT_RETRY_POLICY
        http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json, application/problem+json",
            },
            follow_redirects=False,
        )
        self._t = Transport(http, api_key, self.retry_policy)
        self._logs = LogStreamer(self._t, self.retry_policy, idle_timeout=log_idle_timeout)

    def __repr__(self) -> str:
        return f"RunPodClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._t.http.aclose()

    async def _get(self, model: type[Any], path: str, params: dict[str, Any] | None = None) -> Any:
        data = await self._t.json("GET", path, params=params)
        return parse_model(model, data, method="GET", path=path)

    # ------------------------------------------------------------------------------ pods

    async def list_pods(self, *, include_cluster_pods: bool = False) -> list[Pod]:
        """Every pod of the account, following `pagination.nextCursor` across pages."""
        pods: dict[str, Pod] = {}
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"cursor": cursor}
            if include_cluster_pods:
                params["includeClusterPods"] = True
            page: _PodPage = await self._get(_PodPage, "/pods", params)
            for pod in page.pods:
                pods[pod.id] = pod
            nxt = page.pagination.next_cursor if page.pagination else None
            if not nxt or (page.pagination and page.pagination.has_next_page is False):
                break
            if nxt in seen:
                raise RunPodError(f"pagination cursor {nxt!r} repeated", method="GET", path="/pods")
            seen.add(nxt)
            cursor = nxt
        return list(pods.values())

    async def get_pod(self, pod_id: str) -> Pod:
        """One pod; `NotFoundError` when it does not exist (terminated pods vanish)."""
        result: Pod = await self._get(Pod, f"/pods/{_seg(pod_id)}")
        return result

    async def create_pod(self, request: CreatePodRequest) -> Pod:
        """Create a pod: ONE attempt, never retried (creates are not idempotent).

        On `ServerError` or `RunPodUnavailableError` with `outcome_unknown`, a pod may exist
        anyway: list and match before trying again (`provisioning.create_tagged_pod` does).
        """
        data = await self._t.json("POST", "/pods", body=request.to_wire(), idempotent=False)
        return parse_model(Pod, data, method="POST", path="/pods")

    async def update_pod(self, pod_id: str, request: UpdatePodRequest) -> Pod:
        """PATCH a pod; only the fields set on `request` change. Returns the full pod."""
        path = f"/pods/{_seg(pod_id)}"
        data = await self._t.json("PATCH", path, body=request.to_wire())
        return parse_model(Pod, data, method="PATCH", path=path)

    async def delete_pod(self, pod_id: str) -> None:
        """`DELETE /v2/pods/{id}` (terminate). A 404 after an unknown-outcome retry is success."""
        path = f"/pods/{_seg(pod_id)}"
        try:
            await self._t.request("DELETE", path)
        except NotFoundError as exc:
            if not exc.after_unknown_outcome:
                raise

    async def start_pod(self, pod_id: str) -> Pod:
        """Start an EXITED or ERROR pod; returns it (STARTING or further)."""
        return await self._action(pod_id, PodAction.START)

    async def stop_pod(self, pod_id: str) -> Pod:
        """Stop a pod (compute released, volume kept); returns it EXITED."""
        return await self._action(pod_id, PodAction.STOP)

    async def restart_pod(self, pod_id: str) -> Pod:
        """Restart a RUNNING pod's container in place."""
        return await self._action(pod_id, PodAction.RESTART)

    async def terminate_pod(self, pod_id: str) -> None:
        """Terminate a pod (204). Raises `NotFoundError` if it did not exist when asked.

        When a retry follows an attempt whose outcome is unknown, a 404 or 409 for a pod that
        is gone means our earlier attempt worked, and counts as success.
        """
        path = f"/pods/{_seg(pod_id)}/action"
        try:
            await self._t.request("POST", path, body={"action": PodAction.TERMINATE.value})
        except (NotFoundError, ConflictError) as exc:
            if not exc.after_unknown_outcome or not await self._is_gone(pod_id):
                raise

    async def ensure_terminated(self, pod_id: str) -> bool:
        """Make sure the pod no longer exists. True if this call terminated it, False if it
        was already gone (404, or reported TERMINATED). Other errors propagate."""
        try:
            await self.terminate_pod(pod_id)
        except NotFoundError:
            return False
        except ConflictError:
            if await self._is_gone(pod_id):
                return False
            raise
        return True

    async def _is_gone(self, pod_id: str) -> bool:
        try:
            pod = await self.get_pod(pod_id)
        except NotFoundError:
            return True
        return pod.status is PodStatus.TERMINATED

    async def _action(self, pod_id: str, action: PodAction) -> Pod:
        path = f"/pods/{_seg(pod_id)}/action"
        try:
            data = await self._t.json("POST", path, body={"action": action.value})
        except ConflictError as exc:
            # A retry after an attempt with unknown outcome: maybe that attempt did it.
            if exc.after_unknown_outcome:
                pod = await self.get_pod(pod_id)
                if pod.status in _ACTION_DONE[action]:
                    return pod
            raise
        return parse_model(Pod, data, method="POST", path=path)

    def stream_logs(
        self,
        pod_id: str,
        *,
        last_event_id: str | None = None,
        tail: int | None = None,
        source: str | None = None,
        since: datetime | None = None,
    ) -> AsyncIterator[LogEvent]:
        """Follow a pod's logs (SSE). Reconnects after a drop and resumes with `Last-Event-ID`,
        so no line is lost or repeated. Ends when RunPod answers 404 (the pod is gone).

        `tail` lines of backfill (RunPod's default 100; 0 = live only) apply to the first
        connection only; `last_event_id` resumes an earlier stream; `source` is
        `container` or `system` (default both).
        """
        if source is not None and source not in ("container", "system"):
            raise ValueError("source must be 'container' or 'system'")
        if tail is not None and not 0 <= tail <= 5000:
            raise ValueError("tail must be within 0..5000")
        return self._logs.stream(
            f"/pods/{_seg(pod_id)}/logs",
            last_event_id=last_event_id,
            tail=tail,
            source=source,
            since=_rfc3339(since),
        )

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
        result: GpuType = await self._get(GpuType, f"/catalog/gpus/{_seg(gpu_type_id)}", params)
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
        path = f"/catalog/datacenters/{_seg(data_center_id)}"
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
            NetworkVolume, f"/network-volumes/{_seg(volume_id)}"
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
        path = f"/network-volumes/{_seg(volume_id)}"
        data = await self._t.json("PATCH", path, body=request.to_wire())
        return parse_model(NetworkVolume, data, method="PATCH", path=path)

    async def delete_network_volume(self, volume_id: str) -> None:
        """Delete a network volume (204). A 404 after an unknown-outcome retry is success."""
        try:
            await self._t.request("DELETE", f"/network-volumes/{_seg(volume_id)}")
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
        result: Template = await self._get(Template, f"/templates/{_seg(template_id)}")
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
        "startTime": _rfc3339(start_time),
        "endTime": _rfc3339(end_time),
        "bucketSize": size,
        "lastN": last_n,
    }
