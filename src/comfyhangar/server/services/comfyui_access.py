"""Where a deployment's ComfyUI answers, and with which headers: the one place that says it.

Runs, conversion against a deployment's nodes and anything else that talks to a pod's ComfyUI
get its address from `comfyui_endpoint(deployment, sessions)`: RunPod's HTTP proxy in front
of the pod's token proxy, with the pod token as a bearer header.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.server.db.models import Deployment
from comfyhangar.server.services.pod_spec import comfyui_url
from comfyhangar.server.services.secrets import POD_TOKEN, load_secrets


@dataclass(frozen=True)
class ComfyUIEndpoint:
    """A ComfyUI base URL and the headers every request to it carries (secret: never shown)."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)


async def comfyui_endpoint(
    deployment: Deployment, sessions: async_sessionmaker[AsyncSession]
) -> ComfyUIEndpoint:
    """The deployment's ComfyUI (its pod must exist: callers check that it is ready)."""
    if deployment.pod_id is None:
        raise ValueError(f"deployment {deployment.id} has no pod")
    token = (await load_secrets(sessions, deployment.id)).get(POD_TOKEN)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return ComfyUIEndpoint(comfyui_url(deployment.pod_id).rstrip("/"), headers)
