"""Deployment secrets: the pod token the server makes, and the user's download tokens.

Stored server-side (`deployment_secrets`), write-only through the API: they leave the server
only in the pod's create request (as env) and, for the pod token, in the owner's one-click link.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.server.db.models import DeploymentSecret

# Secret names (not secrets).
POD_TOKEN = "pod_token"  # noqa: S105
HF_TOKEN = "hf_token"  # noqa: S105
CIVITAI_TOKEN = "civitai_token"  # noqa: S105


def new_pod_token() -> str:
    """A fresh random pod token (43 characters of [A-Za-z0-9_-], what the agent accepts)."""
    return secrets.token_urlsafe(32)


async def load_secrets(
    sessions: async_sessionmaker[AsyncSession], deployment_id: str
) -> dict[str, str]:
    """Every secret of a deployment by name ({} for one made before secrets existed)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(DeploymentSecret).where(DeploymentSecret.deployment_id == deployment_id)
        )
        return {r.name: r.value for r in rows}
