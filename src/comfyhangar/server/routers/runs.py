"""`/runs`: run a workflow (or a raw prompt) on a deployment or a registered server."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from comfyhangar.server.auth import PrincipalDep
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.limits import MAX_INT64
from comfyhangar.server.schemas.runs import RunBatch, RunCreate, RunList, RunState, RunView
from comfyhangar.server.services.runs import run_view

router = APIRouter(prefix="/runs", tags=["runs"])
Id = Annotated[str | None, Query(max_length=32)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RunBatch,
    responses={
        409: {"description": "The target deployment is not ready (`target_not_ready`)"},
        422: {
            "description": "An input that does not exist, or the target lacks a node type or "
            "model file (`not_runnable_on_target`, naming node, input and file)"
        },
    },
)
async def create_runs(body: RunCreate, runtime: RuntimeDep, principal: PrincipalDep) -> RunBatch:
    """Queue `count` runs. Everything is checked against the target's `/object_info` first:
    a refusal queues nothing. Follow them on `/events` (`run_queued`, `run_progress`,
    `run_output`, `run_finished`) or `GET /runs/{id}`. A deployment target must be one the
    caller may act on (404/403 as the deployment routes answer)."""
    if body.deployment_id is not None:
        await runtime.deployments.visible(principal, body.deployment_id, act=True)
    batch_id, runs = await runtime.runs.create(body, owner=principal.user_id)
    return RunBatch(batch_id=batch_id, runs=[run_view(r, 0) for r in runs])


@router.get("", response_model=RunList)
async def list_runs(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    state: Annotated[RunState | None, Query()] = None,
    workflow_id: Id = None,
    deployment_id: Id = None,
    server_id: Id = None,
    batch_id: Id = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> RunList:
    """Runs, newest first, filtered: a member's own; admins' and viewers' every one."""
    runs, total = await runtime.runs.list(
        owner=None if principal.sees_everything else principal.user_id,
        state=state,
        workflow_id=workflow_id,
        deployment_id=deployment_id,
        server_id=server_id,
        batch_id=batch_id,
        limit=limit,
        offset=offset,
    )
    return RunList(items=await runtime.runs.views(runs), total=total)


@router.get("/{run_id}", response_model=RunView)
async def get_run(run_id: str, runtime: RuntimeDep) -> RunView:
    """One run: state, progress (node, step, percent), error node by node."""
    return (await runtime.runs.views([await runtime.runs.get(run_id)]))[0]


@router.get(
    "/{run_id}/preview",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The image"}},
)
async def get_run_preview(run_id: str, runtime: RuntimeDep) -> Response:
    """The latest preview image of a running run (a sampler step's); `run_progress` events
    carry `preview_url` when a new one is there. 404 when there is none."""
    row = await runtime.runs.preview(run_id)
    return Response(
        row.data,
        media_type=row.content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/{run_id}/cancel",
    response_model=RunView,
    responses={409: {"description": "The run already ended (`run_finished`)"}},
)
async def cancel_run(run_id: str, runtime: RuntimeDep, principal: PrincipalDep) -> RunView:
    """Cancel a run: a queued one at once; a sent one is deleted from ComfyUI's queue or
    interrupted (only this prompt), and ends `cancelled`. A run on a deployment needs the
    right to act on that deployment (404/403 as the deployment routes answer)."""
    target = await runtime.runs.get(run_id)
    if target.deployment_id is not None:
        await runtime.deployments.visible(principal, target.deployment_id, act=True)
    run = await runtime.runs.cancel(run_id)
    return (await runtime.runs.views([run]))[0]


@router.get(
    "/{run_id}/outputs.zip",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "Every output"}},
)
async def download_run_outputs(run_id: str, runtime: RuntimeDep) -> StreamingResponse:
    """Every output of a run, as one zip (`<node>_<file name>`)."""
    outputs = await runtime.outputs.of_run(run_id)
    spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)  # noqa: SIM115
    await runtime.outputs.zip_of(outputs, spool)
    spool.seek(0)

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := spool.read(1 << 20):
                yield chunk
        finally:
            spool.close()

    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.zip"'},
    )
