"""`/preflight`: the checks a deployment runs before any pod exists, without deploying."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.deployments import MAX_DISK_GB, MIN_CONTAINER_DISK_GB
from comfyhangar.server.services.manifests import validate_manifest
from comfyhangar.server.services.preflight import Disk, Preflight

router = APIRouter(tags=["preflight"])


class PreflightRequest(BaseModel):
    """A manifest (or a preset plus additions), the tokens to check it with, the disk to fit."""

    model_config = ConfigDict(extra="forbid")

    preset: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None
    manifest: dict[str, Any] = Field(default_factory=dict)
    hf_token: SecretStr | None = Field(default=None, description="Write-only")
    civitai_token: SecretStr | None = Field(default=None, description="Write-only")
    container_disk_gb: int | None = Field(default=None, ge=MIN_CONTAINER_DISK_GB, le=MAX_DISK_GB)
    volume_gb: int | None = Field(default=None, ge=10, le=MAX_DISK_GB)


class ModelResult(BaseModel):
    field: str
    model: str
    source: str
    size: int | None
    file_name: str | None
    error: str | None


class PreflightView(BaseModel):
    ok: bool
    models: list[ModelResult]
    total_bytes: int = Field(description="Sum of the known model sizes")
    required_bytes: int = Field(description="total_bytes plus headroom for ComfyUI itself")
    disk_bytes: int | None
    disk_field: str | None
    errors: list[dict[str, str]]


@router.post("/preflight", response_model=PreflightView)
async def preflight(body: PreflightRequest, runtime: RuntimeDep) -> PreflightView:
    """Check a manifest's models (access with the tokens given, sizes) and the disk, without
    deploying. A failure is a 422 `preflight_failed` naming each model and why."""
    service = runtime.deployments
    manifest = service.resolve_manifest(body.preset, body.manifest or {"version": 1})
    checker = service.preflight or Preflight.for_hosts(runtime.model_hosts)
    disk = (
        Disk(body.volume_gb, "volume_gb")
        if body.volume_gb is not None
        else Disk(body.container_disk_gb, "container_disk_gb")
        if body.container_disk_gb is not None
        else None
    )
    result = await checker.run(
        validate_manifest(manifest, service.policy),
        hf_token=body.hf_token.get_secret_value() if body.hf_token else None,
        civitai_token=body.civitai_token.get_secret_value() if body.civitai_token else None,
        disk=disk,
    )
    result.raise_for_errors()
    return PreflightView.model_validate(result.as_dict())
