"""`RunPodClient`: an async client of RunPod REST v2 (`https://api.runpod.io/v2`).

    async with RunPodClient(api_key) as runpod:
        pods = await runpod.list_pods()

Every method maps one endpoint, returns typed models (`comfyhangar.runpod.models`) and raises
the typed errors of `comfyhangar.runpod.errors`. Reads, PATCH, DELETE and the pod actions are
retried per the client's `RetryPolicy`; creates are sent exactly once (use
`comfyhangar.runpod.provisioning.create_tagged_pod` for a safe, reconciled create).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import Field

from comfyhangar import __version__
from comfyhangar.runpod._logs import LogStreamer
from comfyhangar.runpod._resources import ResourceEndpoints, path_segment, rfc3339_param
from comfyhangar.runpod._transport import Transport, parse_model
from comfyhangar.runpod._wire import WireResponse
from comfyhangar.runpod.errors import ConflictError, NotFoundError, RunPodError
from comfyhangar.runpod.models import (
    CreatePodRequest,
    LogEvent,
    Pod,
    PodAction,
    PodStatus,
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


class RunPodClient(ResourceEndpoints):
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
                raise RunPodError(
                    f"pagination cursor {nxt!r} repeated", method="GET", path=self._t.shown("/pods")
                )
            seen.add(nxt)
            cursor = nxt
        else:
            raise RunPodError(
                f"more than {MAX_PAGES} pages of pods", method="GET", path=self._t.shown("/pods")
            )
        return list(pods.values())

    async def get_pod(self, pod_id: str) -> Pod:
        """One pod; `NotFoundError` when it does not exist (terminated pods vanish)."""
        result: Pod = await self._get(Pod, f"/pods/{path_segment(pod_id)}")
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
        path = f"/pods/{path_segment(pod_id)}"
        data = await self._t.json("PATCH", path, body=request.to_wire())
        return parse_model(Pod, data, method="PATCH", path=path)

    async def delete_pod(self, pod_id: str) -> None:
        """`DELETE /v2/pods/{id}` (terminate). A 404 after an unknown-outcome retry is success."""
        path = f"/pods/{path_segment(pod_id)}"
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
        path = f"/pods/{path_segment(pod_id)}/action"
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
        path = f"/pods/{path_segment(pod_id)}/action"
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
            f"/pods/{path_segment(pod_id)}/logs",
            last_event_id=last_event_id,
            tail=tail,
            source=source,
            since=rfc3339_param(since),
        )
