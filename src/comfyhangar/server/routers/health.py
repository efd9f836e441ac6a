"""`GET /health`: is the server able to do its job?"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from comfyhangar import __version__
from comfyhangar.server.runtime import Runtime

router = APIRouter(tags=["health"])


class ComponentHealth(BaseModel):
    ok: bool
    detail: str | None = None


class ReconcilerHealth(BaseModel):
    ok: bool
    last_cycle_at: datetime | None
    last_cycle_age_s: float | None
    detail: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    simulated: bool
    database: ComponentHealth
    runpod: ComponentHealth
    reconciler: ReconcilerHealth


@router.get("/health", response_model=Health)
async def get_health(request: Request) -> Health:
    """Database, RunPod reachability, the reconciler's last cycle, and whether the cloud is simulated."""
    runtime: Runtime = request.app.state.runtime
    database = await runtime.check_database()
    runpod = await runtime.check_runpod()
    reconciler = runtime.reconciler
    last = reconciler.last_cycle_at
    age = (datetime.now(UTC) - last).total_seconds() if last else None
    stale_after = max(3 * runtime.settings.reconcile_interval_s, 30.0)
    cycling = reconciler.last_error is None and (age is None or age < stale_after)
    return Health(
        status="ok" if database[0] and runpod[0] and cycling else "degraded",
        version=__version__,
        simulated=runtime.settings.simulated,
        database=ComponentHealth(ok=database[0], detail=database[1]),
        runpod=ComponentHealth(ok=runpod[0], detail=runpod[1]),
        reconciler=ReconcilerHealth(
            ok=cycling, last_cycle_at=last, last_cycle_age_s=age, detail=reconciler.last_error
        ),
    )
