"""ComfyUI clients for run targets, with one `/object_info` cache for the whole server."""

from __future__ import annotations

from typing import Any

from comfyhangar.comfyui import ComfyUIClient, ComfyUIUnreachable, ObjectInfoCache
from comfyhangar.comfyui.errors import ComfyUIError
from comfyhangar.core.errors import UpstreamUnavailable
from comfyhangar.server.services.comfyui_access import ComfyUIEndpoint


class TargetUnreachable(UpstreamUnavailable):
    """The target's ComfyUI did not answer (nothing was queued)."""

    code = "target_unreachable"


class ComfyUIClients:
    """Makes clients of targets; they share the `/object_info` cache."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.object_info_cache = ObjectInfoCache()
        self.timeout = timeout

    def client(self, endpoint: ComfyUIEndpoint, *, client_id: str | None = None) -> ComfyUIClient:
        """A new client (close it: `async with`); `client_id` names its WebSocket."""
        return ComfyUIClient(
            endpoint.base_url,
            headers=endpoint.headers,
            timeout=self.timeout,
            object_info_cache=self.object_info_cache,
            client_id=client_id,
        )

    async def object_info(
        self, endpoint: ComfyUIEndpoint, node_set: str, *, refresh: bool = False
    ) -> dict[str, Any]:
        """The target's node definitions (cached); 503 `target_unreachable` when it fails."""
        async with self.client(endpoint) as comfy:
            try:
                return await comfy.object_info(node_set=node_set, refresh=refresh)
            except ComfyUIUnreachable as error:
                raise TargetUnreachable(f"the target's ComfyUI did not answer: {error}") from None
            except ComfyUIError as error:
                raise TargetUnreachable(f"the target's ComfyUI answered badly: {error}") from None
