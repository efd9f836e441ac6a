"""`/input-files`: put an input file (an image for LoadImage) on a run target's ComfyUI."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from pydantic import BaseModel, Field

from comfyhangar.core.errors import InvalidInput
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.services.workflows import MAX_WORKFLOW_BYTES, UploadTooLarge

router = APIRouter(prefix="/input-files", tags=["runs"])
NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,126}[A-Za-z0-9)]$"
ID = r"^[0-9a-f]{32}$"


class InputFileView(BaseModel):
    name: str = Field(description="The name ComfyUI gave it (it renames on a clash)")
    subfolder: str
    type: str
    reference: str = Field(
        description='What to set a LoadImage-style input to (`overrides`: `{"10.image": ...}`)'
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InputFileView)
async def upload_input_file(
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="The file, at most 32 MB")],
    deployment_id: Annotated[str | None, Form(pattern=ID)] = None,
    server_id: Annotated[str | None, Form(pattern=ID)] = None,
) -> InputFileView:
    """Upload an input file to a deployment's or server's ComfyUI (its `input/` folder), for
    runs to use: set the LoadImage input to the `reference` answered."""
    name = file.filename or ""
    if not re.fullmatch(NAME, name):
        raise InvalidInput.at(
            "file", "a file name of letters, digits, ' ', '.', '_', '-', '(', ')'"
        )
    data = await file.read(MAX_WORKFLOW_BYTES + 1)
    if len(data) > MAX_WORKFLOW_BYTES:
        raise UploadTooLarge(f"input files over {MAX_WORKFLOW_BYTES:,} bytes are refused")
    uploaded = await runtime.runs.upload_input(
        deployment_id=deployment_id, server_id=server_id, filename=name, data=data
    )
    return InputFileView(
        name=uploaded.name,
        subfolder=uploaded.subfolder,
        type=uploaded.type,
        reference=uploaded.reference,
    )
