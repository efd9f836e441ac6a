"""`/pods`: every pod of the RunPod account, ours and others (others are shown, never touched)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.deps import RuntimeDep

router = APIRouter(tags=["pods"])


class AccountPod(BaseModel):
    id: str
    name: str
    status: str
    deployment_id: str | None
    managed: bool
    gpu_type_id: str | None
    gpu_count: int
    cost_per_hour: Decimal
    data_center_id: str | None
    first_seen_at: datetime


class AccountPods(BaseModel):
    pods: list[AccountPod]


@router.get("/pods", response_model=AccountPods)
async def list_pods(runtime: RuntimeDep) -> AccountPods:
    """Live pods of the account as last seen; `managed` is false for pods ComfyHangar did not make."""
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(PodRow).where(PodRow.gone_at.is_(None)).order_by(PodRow.first_seen_at)
        )
        pods = [
            AccountPod(
                id=r.id,
                name=r.name,
                status=r.status,
                deployment_id=r.deployment_id,
                managed=r.deployment_id is not None,
                gpu_type_id=r.gpu_type_id,
                gpu_count=r.gpu_count,
                cost_per_hour=r.cost_per_hour,
                data_center_id=r.data_center_id,
                first_seen_at=r.first_seen_at,
            )
            for r in rows
        ]
    return AccountPods(pods=pods)
