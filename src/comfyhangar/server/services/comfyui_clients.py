"""ComfyUI clients for run targets: one connection pool and one `/object_info` cache for the
whole server (a client per run is cheap: it borrows the pool instead of building its own TLS
context and connections)."""

from __future__ import annotations

from typing import Any

import httpx

from comfyhangar.comfyui import ComfyUIClient, ComfyUIUnreachable, ObjectInfoCache
from comfyhangar.comfyui.errors import ComfyUIError
from comfyhangar.core.errors import UpstreamUnavailable
from comfyhangar.server.services.comfyui_access import ComfyEndpoint


class TargetUnreachable(UpstreamUnavailable):
    """The target's ComfyUI did not answer (nothing was queued)."""

    code = "target_unreachable"


class _Borrowed(httpx.AsyncBaseTransport):
    """The shared transport, which a client's `aclose` leaves open."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        return None


class ComfyUIClients:
    """Makes clients of targets; they share a connection pool and the `/object_info` cache."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.object_info_cache = ObjectInfoCache()
        self.timeout = timeout
        self._transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

    def client(
        self,
        endpoint: ComfyEndpoint,
        *,
        client_id: str | None = None,
        object_info_cache: ObjectInfoCache | None = None,
    ) -> ComfyUIClient:
        """A new client (close it: `async with`); `client_id` names its WebSocket."""
        return ComfyUIClient(
            endpoint.base_url,
            headers=endpoint.headers,
            timeout=self.timeout,
            object_info_cache=self.object_info_cache
            if object_info_cache is None
            else object_info_cache,
            client_id=client_id,
            transport=_Borrowed(self._transport),
        )

    async def object_info(
        self, endpoint: ComfyEndpoint, node_set: str, *, refresh: bool = False
    ) -> dict[str, Any]:
        """The target's node definitions (cached); 503 `target_unreachable` when it fails."""

        async def fetch() -> dict[str, Any]:
            # A cache of its own: the shared one holds this key's lock while we fetch.
            async with self.client(endpoint, object_info_cache=ObjectInfoCache(1)) as comfy:
                return await comfy.object_info(node_set=node_set)

        try:
            return await self.object_info_cache.get(
                (endpoint.base_url, node_set), fetch, refresh=refresh
            )
        except ComfyUIUnreachable as error:
            raise TargetUnreachable(f"the target's ComfyUI did not answer: {error}") from None
        except ComfyUIError as error:
            raise TargetUnreachable(f"the target's ComfyUI answered badly: {error}") from None
