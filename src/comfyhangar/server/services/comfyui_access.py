"""How the server reaches a deployment's ComfyUI: its address and the headers that open it.

Every server-side caller of a pod's ComfyUI (the idle guard, runs) goes through
`comfyui_endpoint`, so where a pod's ComfyUI lives (RunPod's proxy in front of the agent's
token proxy; a simulated pod's emulator) is decided in this one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.server.db.models import Deployment
from comfyhangar.server.services.pod_spec import comfyui_url
from comfyhangar.server.services.secrets import POD_TOKEN, load_secrets

# The header the agent's token proxy accepts (agent/proxy.py), besides a bearer token.
POD_TOKEN_HEADER = "X-Hangar-Token"  # noqa: S105 - a header name


class NoComfyUI(Exception):
    """The deployment has no pod whose ComfyUI could be reached."""


@dataclass(frozen=True)
class ComfyUIEndpoint:
    """A ComfyUI's base URL and the headers for every request to it (they carry the pod
    token: never log or show them)."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


async def comfyui_endpoint(
    deployment: Deployment, sessions: async_sessionmaker[AsyncSession]
) -> ComfyUIEndpoint:
    """The ComfyUI of `deployment`'s pod through RunPod's proxy and the agent's token proxy."""
    if deployment.pod_id is None:
        raise NoComfyUI(f"deployment {deployment.id} has no pod")
    token = (await load_secrets(sessions, deployment.id)).get(POD_TOKEN)
    headers = {POD_TOKEN_HEADER: token} if token else {}
    return ComfyUIEndpoint(comfyui_url(deployment.pod_id), headers)
