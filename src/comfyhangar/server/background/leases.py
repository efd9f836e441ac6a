"""Per-row leases: at most one server process acts on a deployment's pod (or on a run) at a time.

A process takes the lease only if the deployment has not changed since it looked (`version`)
and nobody else holds an unexpired lease. It calls RunPod with no transaction open, then applies
the result under its lease token. Leases are short and renewed while the call runs, so a
process killed mid-action blocks others for at most one lease period. Runs are leased the same
way (`model=Run`): the process holding a run's lease is the one that posts and follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.server.db.models import Deployment, Run

Leased = type[Deployment] | type[Run]

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class LeaseLostError(Exception):
    """The lease expired and another process may have taken over."""


class Lease:
    """A held lease on one deployment. `apply` writes under it; `release` gives it back."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        deployment_id: str,
        token: str,
        model: Leased = Deployment,
    ) -> None:
        self.sessions = sessions
        self.deployment_id = deployment_id  # the leased row's id (a run's, with model=Run)
        self.token = token
        self.model = model

    def _mine(self) -> Any:
        return (self.model.id == self.deployment_id) & (self.model.lock_token == self.token)

    async def apply(
        self,
        session: AsyncSession,
        values: dict[str, Any],
        *,
        release: bool = True,
    ) -> None:
        """Update the deployment in `session`'s transaction if the lease is still ours."""
        if release:
            values = {**values, "lock_token": None, "lock_expires_at": None}
        result = await session.execute(
            update(self.model)
            .where(self._mine())
            .values(version=self.model.version + 1, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLostError(self.deployment_id)

    async def renew(self, seconds: float) -> bool:
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(self.model)
                .where(self._mine())
                .values(lock_expires_at=utcnow() + timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def release(self) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(self.model)
                .where(self._mine())
                .values(lock_token=None, lock_expires_at=None)
                .execution_options(synchronize_session=False)
            )


async def acquire(
    sessions: async_sessionmaker[AsyncSession],
    deployment_id: str,
    version: int,
    seconds: float,
    extra: Callable[[], dict[str, Any]] | None = None,
    model: Leased = Deployment,
) -> Lease | None:
    """Take the lease if the deployment is still at `version` and free; None otherwise.

    `extra` values are written in the same statement (for example a create intent), so they
    land if and only if the lease is taken.
    """
    now = utcnow()
    token = secrets.token_hex(16)
    values: dict[str, Any] = {
        "lock_token": token,
        "lock_expires_at": now + timedelta(seconds=seconds),
        "version": model.version + 1,
        **(extra() if extra else {}),
    }
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(model)
            .where(
                model.id == deployment_id,
                model.version == version,
                or_(model.lock_token.is_(None), model.lock_expires_at < now),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Lease(sessions, deployment_id, token, model)


async def claim_new(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    values: dict[str, Any],
    seconds: float,
) -> Lease | None:
    """Insert a deployment row (`values`, with its `id`) that holds its lease, in `session`'s
    transaction; None, with nothing written, if a row with that id or live name exists.

    Two processes claiming the same id never both get it: PostgreSQL makes the second insert
    wait for the first's commit and then skip; SQLite has one writer at a time. The loser's
    transaction goes on (no integrity error aborts it). Write under the returned lease in the
    same transaction and `apply` it to release it at commit.
    """
    token = secrets.token_hex(16)
    row = {
        **values,
        "lock_token": token,
        "lock_expires_at": utcnow() + timedelta(seconds=seconds),
    }
    statement: Insert
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(Deployment).values(**row).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(Deployment).values(**row).on_conflict_do_nothing()
    result = await session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Lease(sessions, str(values["id"]), token)


@contextlib.asynccontextmanager
async def renewing(lease: Lease, seconds: float) -> AsyncIterator[None]:
    """Renew `lease` every third of `seconds` while the block runs."""

    async def _renew() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            if not await lease.renew(seconds):
                log.warning("lease on deployment %s lost while acting", lease.deployment_id)
                return

    task = asyncio.create_task(_renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
