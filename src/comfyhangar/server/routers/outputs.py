"""`/outputs`: files that runs produced, copied home (they stay after the pod is gone)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, StreamingResponse

from comfyhangar.core.errors import InvalidInput
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.limits import MAX_INT64
from comfyhangar.server.schemas.runs import OutputList, OutputView
from comfyhangar.server.services.outputs import output_view
from comfyhangar.server.views import API as API_PREFIX

router = APIRouter(prefix="/outputs", tags=["outputs"])
ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$"


def _time(field: str, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput.at(
            field, f"{value!r} is not a time such as 2026-12-04T18:00:00Z"
        ) from None
    return when


Id = Annotated[str | None, Query(max_length=32)]


@router.get("", response_model=OutputList)
async def list_outputs(
    runtime: RuntimeDep,
    run_id: Id = None,
    batch_id: Id = None,
    workflow_id: Id = None,
    deployment_id: Id = None,
    since: Annotated[
        str | None,
        Query(
            pattern=ISO_TIME,
            description="Made at or after this time, ISO 8601 with its zone (2026-12-04T18:00:00Z)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> OutputList:
    """Outputs, newest first, filtered; `url` of each serves its bytes."""
    after = _time("since", since) if since is not None else None
    rows, total = await runtime.outputs.list(
        run_id=run_id,
        batch_id=batch_id,
        workflow_id=workflow_id,
        deployment_id=deployment_id,
        since=after,
        limit=limit,
        offset=offset,
    )
    return OutputList(items=[output_view(r, API_PREFIX) for r in rows], total=total)


@router.get("/{output_id}", response_model=OutputView)
async def get_output(output_id: str, runtime: RuntimeDep) -> OutputView:
    return output_view(await runtime.outputs.get(output_id), API_PREFIX)


@router.get(
    "/{output_id}/content",
    response_class=StreamingResponse,
    response_model=None,
    responses={200: {"content": {"image/png": {}, "application/octet-stream": {}}}},
)
async def get_output_content(
    output_id: str, runtime: RuntimeDep
) -> StreamingResponse | FileResponse:
    """The output's bytes, as ComfyUI wrote them."""
    row = await runtime.outputs.get(output_id)
    safe_name = re.sub(r"[^A-Za-z0-9._ ()-]", "_", row.filename)
    headers = {
        "Content-Disposition": f'inline; filename="{safe_name}"',
        # A file a pod wrote is served from our origin: it may not run anything there (an SVG
        # or HTML output is shown, never executed with the dashboard's rights).
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        "ETag": f'"{row.sha256}"',
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    path = runtime.outputs.store.path(row.storage_key)
    if path is not None:
        return FileResponse(path, media_type=row.content_type, headers=headers)
    return StreamingResponse(
        runtime.outputs.content(row), media_type=row.content_type, headers=headers
    )
