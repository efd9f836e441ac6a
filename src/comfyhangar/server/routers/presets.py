"""`/presets`: named sets of models and custom nodes a deployment can start from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from comfyhangar.agent.manifest import KNOWN_FOLDERS
from comfyhangar.server.services.presets import PRESETS

router = APIRouter(tags=["presets"])


class PresetModelView(BaseModel):
    name: str
    folder: str
    source: dict[str, Any]
    size: int = Field(description="Bytes")
    gated: bool = Field(description="Needs a Hugging Face token with access to the repo")


class PresetNodeView(BaseModel):
    name: str
    repo: str
    ref: str


class PresetView(BaseModel):
    id: str
    title: str
    description: str
    models: list[PresetModelView]
    nodes: list[PresetNodeView]
    total_bytes: int
    needs_hf_token: bool


class PresetList(BaseModel):
    presets: list[PresetView]
    model_folders: list[str] = Field(
        description="The folders a manifest's models may go to (ComfyUI's models/<folder>)"
    )


@router.get("/presets", response_model=PresetList)
async def list_presets() -> PresetList:
    """Every preset with its models (name, folder, source, size), nodes and total size, and
    the model folders a custom model may name."""
    return PresetList(
        presets=[
            PresetView(
                id=p.id,
                title=p.title,
                description=p.description,
                models=[
                    PresetModelView(
                        name=m.name,
                        folder=m.folder,
                        source=m.manifest_entry()["source"],
                        size=m.size,
                        gated=m.gated,
                    )
                    for m in p.models
                ],
                nodes=[PresetNodeView(**n) for n in p.nodes],
                total_bytes=p.total_bytes,
                needs_hf_token=p.needs_hf_token,
            )
            for p in PRESETS.values()
        ],
        model_folders=list(KNOWN_FOLDERS),
    )
