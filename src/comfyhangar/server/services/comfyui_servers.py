"""Registered ComfyUI servers (ones ComfyHangar does not manage), and run targets.

A run targets a deployment or a registered server; `TargetResolver.resolve` turns either into
the ComfyUI endpoint to use, and refuses a deployment that is not ready (409
`target_not_ready`) before anything is queued.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.errors import Conflict, InvalidInput, NotFound
from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.server.db.models import ComfyUIServer, Deployment
from comfyhangar.server.schemas.workflows import ServerCreate, ServerView
from comfyhangar.server.services.comfyui_access import ComfyEndpoint, ComfyUIAccess
from comfyhangar.server.services.secrets import SecretBox


class TargetNotReady(Conflict):
    """A deployment that cannot take a run now (stopped, still installing, gone)."""

    code = "target_not_ready"


class ServerNameTaken(Conflict):
    code = "name_taken"


@dataclass(frozen=True)
class Target:
    """Where a run goes: `kind` deployment or server, its id and name, and its endpoint."""

    kind: str
    id: str
    name: str
    endpoint: ComfyEndpoint

    @property
    def node_set(self) -> str:
        """The `/object_info` cache key part: one per target."""
        return f"{self.kind}:{self.id}"


def server_view(row: ComfyUIServer) -> ServerView:
    return ServerView(
        id=row.id,
        name=row.name,
        url=row.url,
        auth_header_name=row.auth_header_name,
        has_auth=row.auth_header_value is not None,
        created_at=row.created_at,
    )


class ServerService:
    """Register, list and remove ComfyUI servers; resolve run targets. An auth header value
    is stored sealed by `secret_box` (None: in clear, only in services built by hand in
    tests) and opened only to build the client (`ComfyUIAccess.server_endpoint`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        access: ComfyUIAccess,
        secret_box: SecretBox | None = None,
    ) -> None:
        self._sessions = sessions
        self._access = access
        self._box = secret_box

    async def create(self, body: ServerCreate) -> ComfyUIServer:
        if (body.auth_header_name is None) != (body.auth_header_value is None):
            raise InvalidInput.at(
                "auth_header_value" if body.auth_header_name else "auth_header_name",
                "give both the header's name and its value, or neither",
            )
        row = ComfyUIServer(
            id=uuid.uuid4().hex,
            name=body.name,
            url=body.url.rstrip("/"),
            auth_header_name=body.auth_header_name,
            auth_header_value=(
                self._box.seal(body.auth_header_value)
                if self._box and body.auth_header_value is not None
                else body.auth_header_value
            ),
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:
            raise ServerNameTaken(f"a server named {body.name!r} is already registered") from None
        return row

    async def list(self) -> Sequence[ComfyUIServer]:
        async with self._sessions() as session:
            return (await session.scalars(select(ComfyUIServer).order_by(ComfyUIServer.name))).all()

    async def get(self, server_id: str) -> ComfyUIServer:
        async with self._sessions() as session:
            row = await session.get(ComfyUIServer, server_id)
        if row is None:
            raise NotFound(f"no ComfyUI server {server_id}")
        return row

    async def delete(self, server_id: str) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(ComfyUIServer, server_id)
            if row is None:
                raise NotFound(f"no ComfyUI server {server_id}")
            await session.delete(row)

    async def resolve(self, *, deployment_id: str | None, server_id: str | None) -> Target:
        """The target of a run; 404 if it does not exist, 409 if a deployment is not ready."""
        if server_id is not None:
            row = await self.get(server_id)
            return Target("server", row.id, row.name, self._access.server_endpoint(row))
        assert deployment_id is not None  # noqa: S101 - the request validator makes sure
        async with self._sessions() as session:
            dep = await session.get(Deployment, deployment_id)
        if dep is None:
            raise NotFound(f"no deployment {deployment_id}")
        if dep.state != DeploymentState.READY.value or dep.pod_id is None:
            raise TargetNotReady(
                f"deployment {dep.name} is {dep.state}, not ready: start it (or wait until "
                "it is ready) and run again; nothing was queued",
                details={"deployment_id": dep.id, "state": dep.state},
            )
        return Target("deployment", dep.id, dep.name, await self._access.comfyui_endpoint(dep))
