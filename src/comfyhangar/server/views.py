"""Shaping deployments for the API: database rows plus the reconciler's latest pod metrics."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.runpod.models import Pod
from comfyhangar.server.db.models import Deployment, Event
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.deployments import (
    CostProjections,
    DeploymentCostView,
    DeploymentDetail,
    DeploymentLinks,
    DeploymentView,
    GpuView,
    PodView,
    SetupStep,
    StateChange,
)
from comfyhangar.server.services.costs import DeploymentCost

API = "/api/v1"
SETUP_ORDER = ("preflight", "comfyui", "custom_nodes", "models", "start", "ready")


def pod_view(row: PodRow | None, live: Pod | None) -> PodView | None:
    if row is None or row.gone_at is not None:
        return None
    runtime = live.runtime if live is not None else None
    return PodView(
        id=row.id,
        status=live.status.value if live is not None else row.status,
        cost_per_hour=live.cost if live is not None else row.cost_per_hour,
        data_center_id=row.data_center_id,
        uptime_s=runtime.uptime if runtime else None,
        gpu_util=[g.util or 0 for g in runtime.gpus] if runtime else [],
        gpu_memory_util=[g.memory_util or 0 for g in runtime.gpus] if runtime else [],
        cpu_util=runtime.cpu.util if runtime and runtime.cpu else None,
        memory_util=runtime.memory.util if runtime and runtime.memory else None,
        last_seen_at=row.last_seen_at,
    )


def setup_steps(dep: Deployment) -> list[SetupStep]:
    steps = dep.setup or {}
    return [SetupStep(step=name, **steps[name]) for name in SETUP_ORDER if name in steps]


def cost_view(cost: DeploymentCost | None) -> DeploymentCostView:
    if cost is None:
        zero = Decimal(0)
        return DeploymentCostView(
            so_far_usd=zero,
            per_hour_usd=zero,
            metered_until=None,
            projections=CostProjections(hour=zero, day=zero, week=zero, month=zero),
        )
    return DeploymentCostView(
        so_far_usd=cost.so_far,
        per_hour_usd=cost.per_hour,
        metered_until=cost.metered_until,
        projections=CostProjections(**cost.projections()),
    )


def deployment_view(
    dep: Deployment,
    row: PodRow | None,
    live: Pod | None,
    *,
    simulated: bool,
    cost: DeploymentCost | None = None,
) -> DeploymentView:
    spec = dep.spec
    link = f"{API}/deployments/{dep.id}"
    pod = pod_view(row, live)
    # The one-click link: `/open` redirects to the pod's proxy with the pod token; the token
    # itself never appears in a JSON view.
    comfyui = (
        f"{link}/open" if pod is not None and dep.state == DeploymentState.READY.value else None
    )
    return DeploymentView(
        id=dep.id,
        name=dep.name,
        state=DeploymentState(dep.state),
        desired_state=Desired(dep.desired_state),
        reason=dep.state_reason,
        simulated=simulated,
        gpu=GpuView(id=spec["gpu"]["id"], count=spec["gpu"]["count"]),
        cloud=spec["cloud"],
        image=spec["image"],
        container_disk_gb=spec["container_disk_gb"],
        volume_gb=spec.get("volume_gb"),
        network_volume_id=spec.get("network_volume_id"),
        created_at=dep.created_at,
        updated_at=dep.updated_at,
        pod=pod,
        setup=setup_steps(dep),
        cost=cost_view(cost),
        links=DeploymentLinks(
            self=link,
            logs=f"{link}/logs",
            events=f"{API}/events?deployment_id={dep.id}",
            comfyui=comfyui,
        ),
    )


def deployment_detail(
    dep: Deployment,
    row: PodRow | None,
    live: Pod | None,
    history: Sequence[Event],
    *,
    simulated: bool,
    cost: DeploymentCost | None = None,
) -> DeploymentDetail:
    view = deployment_view(dep, row, live, simulated=simulated, cost=cost)
    changes = [
        StateChange(
            state=DeploymentState(e.data["state"]), at=e.created_at, reason=e.data.get("reason")
        )
        for e in history
    ]
    return DeploymentDetail(**view.model_dump(), history=changes)
