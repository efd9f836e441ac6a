"""`GET /health`: is the server able to do its job?"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from comfyhangar import __version__
from comfyhangar.server.runtime import Runtime

router = APIRouter(tags=["health"])


class ComponentHealth(BaseModel):
    ok: bool
    detail: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    simulated: bool
    database: ComponentHealth
    runpod: ComponentHealth


@router.get("/health", response_model=Health)
async def get_health(request: Request) -> Health:
    """Database and RunPod reachability, and whether the cloud is simulated."""
    runtime: Runtime = request.app.state.runtime
    database = await runtime.check_database()
    runpod = await runtime.check_runpod()
    return Health(
        status="ok" if database[0] and runpod[0] else "degraded",
        version=__version__,
        simulated=runtime.settings.simulated,
        database=ComponentHealth(ok=database[0], detail=database[1]),
        runpod=ComponentHealth(ok=runpod[0], detail=runpod[1]),
    )
