"""`/audit`: admins read the audit log, newest first, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import select

from comfyhangar.server.db.models import AuditEntry
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.limits import MAX_INT64

router = APIRouter(tags=["audit"])
CSV_COLUMNS = (
    "id",
    "at",
    "actor_name",
    "actor_id",
    "via",
    "address",
    "method",
    "path",
    "status",
    "outcome",
    "subject",
)


class AuditView(BaseModel):
    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    via: str | None
    address: str | None
    method: str
    path: str
    status: int
    outcome: Literal["ok", "refused", "failed"]
    subject: str | None


class AuditList(BaseModel):
    entries: list[AuditView]


@router.get("/audit", response_model=AuditList, responses={200: {"content": {"text/csv": {}}}})
async def list_audit(
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_INT64, description="Entries with a smaller id (paging)")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> AuditList | Response:
    """Changes and refusals, newest first: who, when, from where, what, how it ended."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    async with runtime.sessions() as session:
        rows = (await session.scalars(query)).all()
    views = [AuditView.model_validate(r, from_attributes=True) for r in rows]
    if format == "json":
        return AuditList(entries=views)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for view in views:
        row = view.model_dump(mode="json")
        writer.writerow(_cell(row[c]) for c in CSV_COLUMNS)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="comfyhangar-audit.csv"'},
    )


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
