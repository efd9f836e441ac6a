"""Outputs copied home: listing with filters, their bytes, and a run's outputs as one zip."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.errors import NotFound
from comfyhangar.server.db.models import Output, Run
from comfyhangar.server.schemas.runs import OutputView
from comfyhangar.server.services.output_store import OutputStore


def output_view(row: Output, api_prefix: str) -> OutputView:
    return OutputView(
        id=row.id,
        run_id=row.run_id,
        node_id=row.node_id,
        kind=row.kind,
        folder_type=row.folder_type,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        width=row.width,
        height=row.height,
        created_at=row.created_at,
        url=f"{api_prefix}/outputs/{row.id}/content",
    )


class OutputService:
    """Reads of outputs and their bytes (the dispatcher writes them)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: OutputStore) -> None:
        self._sessions = sessions
        self.store = store

    async def list(
        self,
        *,
        run_id: str | None,
        batch_id: str | None,
        workflow_id: str | None,
        deployment_id: str | None,
        since: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Output], int]:
        """Outputs, newest first."""
        query = select(Output)
        if batch_id or workflow_id or deployment_id:
            query = query.join(Run, Run.id == Output.run_id)
            if batch_id:
                query = query.where(Run.batch_id == batch_id)
            if workflow_id:
                query = query.where(Run.workflow_id == workflow_id)
            if deployment_id:
                query = query.where(Run.deployment_id == deployment_id)
        if run_id:
            query = query.where(Output.run_id == run_id)
        if since is not None:
            query = query.where(Output.created_at >= since)
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(
                query.order_by(Output.created_at.desc(), Output.id).limit(limit).offset(offset)
            )
            return rows.all(), int(total or 0)

    async def get(self, output_id: str) -> Output:
        async with self._sessions() as session:
            row = await session.get(Output, output_id)
        if row is None:
            raise NotFound(f"no output {output_id}")
        return row

    async def of_run(self, run_id: str) -> Sequence[Output]:
        async with self._sessions() as session:
            if await session.get(Run, run_id) is None:
                raise NotFound(f"no run {run_id}")
            rows = await session.scalars(
                select(Output).where(Output.run_id == run_id).order_by(Output.created_at, Output.id)
            )
            return rows.all()

    async def zip_of(self, outputs: Sequence[Output], out: IO[bytes]) -> None:
        """Write the outputs into a zip (stored, not deflated: images are compressed already),
        each as `<node>_<file name>`."""
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            for row in outputs:
                name = f"{row.node_id}_{row.filename}"
                with archive.open(name, "w", force_zip64=True) as member:
                    async for chunk in self.store.read(row.storage_key):
                        member.write(chunk)

    def content(self, row: Output) -> AsyncIterator[bytes]:
        return self.store.read(row.storage_key)
