"""Keeping the `pods` table in step with what RunPod reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from comfyhangar.runpod.models import Pod
from comfyhangar.server.background.leases import utcnow
from comfyhangar.server.db.models import Pod as PodRow


def snapshot(pod: Pod) -> dict[str, Any]:
    """The pod as RunPod reported it, minus `env` (tokens live there) and `runtime` (churns)."""
    return pod.model_dump(mode="json", by_alias=True, exclude={"env", "runtime"})


def differs(row: PodRow, pod: Pod) -> bool:
    """Whether the stored row is out of date (ignores runtime metrics, which change always)."""
    return (
        row.status != pod.status.value
        or row.cost_per_hour != pod.cost
        or row.data_center_id != pod.data_center_id
        or row.gone_at is not None
    )


async def record_pod(session: AsyncSession, pod: Pod, deployment_id: str | None) -> PodRow:
    """Insert or update the row of `pod` (seen now)."""
    now = utcnow()
    row = await session.get(PodRow, pod.id)
    if row is None:
        row = PodRow(id=pod.id, first_seen_at=now)
        session.add(row)
    row.deployment_id = deployment_id if deployment_id is not None else row.deployment_id
    row.name = pod.name
    row.status = pod.status.value
    row.gpu_type_id = pod.gpu_type_id
    row.gpu_count = pod.gpu.count if pod.gpu else 0
    row.cloud = pod.cloud.value
    row.data_center_id = pod.data_center_id
    row.cost_per_hour = pod.cost
    row.snapshot = snapshot(pod)
    row.last_seen_at = now
    row.gone_at = None
    return row
