"""`/workflows`: the workflow library (upload, versions, inputs, export, import) and conversion."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status
from starlette.convertors import Convertor, register_url_convertor

from comfyhangar.core.errors import InvalidInput
from comfyhangar.server.db.models import Workflow, WorkflowVersion
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.limits import MAX_INT64
from comfyhangar.server.schemas.workflows import (
    ConvertRequest,
    ConvertResult,
    WorkflowDetail,
    WorkflowDocument,
    WorkflowInput,
    WorkflowList,
    WorkflowVersionView,
    WorkflowView,
)
from comfyhangar.server.services.workflows import (
    MAX_WORKFLOW_BYTES,
    UploadTooLarge,
    clean_tags,
    convert,
    parse_upload,
    reference_object_info,
)


class _WorkflowIdConvertor(Convertor[str]):
    """A workflow id in a path: 32 lowercase hex digits, so `/workflows/convert` and
    `/workflows/import` are never read as ids (each path has exactly its own methods)."""

    regex = "[0-9a-f]{32}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("workflow_id", _WorkflowIdConvertor())
router = APIRouter(prefix="/workflows", tags=["workflows"])
UPLOAD_DOC = (
    "A workflow file: JSON in the UI format (what the editor saves) or the API format "
    f"(Export (API)), or a PNG/WebP that ComfyUI wrote (it carries both); at most "
    f"{MAX_WORKFLOW_BYTES // (1024 * 1024)} MB"
)
WorkflowFile = Annotated[UploadFile, File(description=UPLOAD_DOC)]


async def _read(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_WORKFLOW_BYTES + 1)
    if len(data) > MAX_WORKFLOW_BYTES:
        raise UploadTooLarge(f"workflow files over {MAX_WORKFLOW_BYTES:,} bytes are refused")
    return data


def _inputs(version: WorkflowVersion) -> list[WorkflowInput]:
    return [WorkflowInput.model_validate(i) for i in version.inputs]


def _view(workflow: Workflow, latest: WorkflowVersion) -> WorkflowView:
    return WorkflowView(
        id=workflow.id,
        name=workflow.name,
        description=workflow.description,
        tags=list(workflow.tags),
        latest_version=workflow.latest_version,
        created_at=workflow.created_at,
        updated_at=workflow.updated_at,
        inputs=_inputs(latest),
    )


def _version_view(version: WorkflowVersion) -> WorkflowVersionView:
    return WorkflowVersionView(
        version=version.version,
        source_format=version.source_format,
        has_api_prompt=version.api_prompt is not None,
        inputs=_inputs(version),
        note=version.note,
        created_at=version.created_at,
    )


def _detail(workflow: Workflow, versions: Sequence[WorkflowVersion]) -> WorkflowDetail:
    return WorkflowDetail(
        **_view(workflow, versions[0]).model_dump(),
        versions=[_version_view(v) for v in versions],
    )


async def _detail_of(runtime: RuntimeDep, workflow_id: str) -> WorkflowDetail:
    workflow, versions = await runtime.workflows.get(workflow_id)
    return _detail(workflow, versions)


def _tags(raw: str) -> list[str]:
    return clean_tags(raw.split(","))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkflowDetail)
async def create_workflow(
    runtime: RuntimeDep,
    file: WorkflowFile,
    name: Annotated[str, Form(min_length=1, max_length=128, description="Unique in the library")],
    description: Annotated[str, Form(max_length=2000)] = "",
    tags: Annotated[str, Form(max_length=1000, description="Comma separated")] = "",
) -> WorkflowDetail:
    """Add a workflow to the library (its version 1). Its `inputs` are the values a run may
    change, by `node_id.input`."""
    parsed = parse_upload(await _read(file))
    workflow = await runtime.workflows.create(
        parsed, name=name, description=description, tags=_tags(tags)
    )
    return await _detail_of(runtime, workflow.id)


@router.get("", response_model=WorkflowList)
async def list_workflows(
    runtime: RuntimeDep,
    tag: Annotated[str | None, Query(max_length=32)] = None,
    search: Annotated[str | None, Query(max_length=128, description="Part of the name")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> WorkflowList:
    """The library, most recently changed first."""
    rows, total = await runtime.workflows.list(tag=tag, search=search, limit=limit, offset=offset)
    return WorkflowList(items=[_view(w, v) for w, v in rows], total=total)


@router.post("/convert", response_model=ConvertResult)
async def convert_workflow(body: ConvertRequest, runtime: RuntimeDep) -> ConvertResult:
    """UI workflow in, API prompt out, as the ComfyUI frontend makes it: against a
    deployment's or server's `/object_info`, an inline one, or the reference node set."""
    chosen = [body.deployment_id, body.server_id, body.object_info]
    if sum(c is not None for c in chosen) > 1:
        raise InvalidInput.at("body", "give at most one of deployment_id, server_id, object_info")
    against = "reference"
    info: dict[str, Any] = reference_object_info()
    if body.object_info is not None:
        against, info = "inline", body.object_info
    elif body.deployment_id is not None or body.server_id is not None:
        target = await runtime.servers.resolve(
            deployment_id=body.deployment_id, server_id=body.server_id
        )
        against = target.kind
        info = await runtime.runs.object_info(target)
    prompt, inputs = convert(body.workflow, info)
    return ConvertResult(
        prompt=prompt,
        inputs=[WorkflowInput.model_validate(i.as_dict()) for i in inputs],
        against=against,
    )


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=WorkflowDetail)
async def import_workflow(
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="A file that GET /workflows/{id}/export made")],
    name: Annotated[str | None, Form(min_length=1, max_length=128)] = None,
) -> WorkflowDetail:
    """A workflow exported from this or another ComfyHangar, with all its versions."""
    workflow = await runtime.workflows.import_(await _read(file), name=name)
    return await _detail_of(runtime, workflow.id)


@router.get("/{workflow_id:workflow_id}", response_model=WorkflowDetail)
async def get_workflow(workflow_id: str, runtime: RuntimeDep) -> WorkflowDetail:
    """A workflow with every version and its inputs."""
    return await _detail_of(runtime, workflow_id)


@router.delete("/{workflow_id:workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workflow(workflow_id: str, runtime: RuntimeDep) -> Response:
    """Remove a workflow and its versions; its runs and their outputs stay."""
    await runtime.workflows.delete(workflow_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{workflow_id:workflow_id}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkflowDetail,
)
async def add_workflow_version(
    workflow_id: str,
    runtime: RuntimeDep,
    file: WorkflowFile,
    note: Annotated[str, Form(max_length=500, description="What changed")] = "",
) -> WorkflowDetail:
    """A new version of the workflow (older versions stay, and runs keep naming theirs)."""
    parsed = parse_upload(await _read(file))
    await runtime.workflows.add_version(workflow_id, parsed, note)
    return await _detail_of(runtime, workflow_id)


@router.get("/{workflow_id:workflow_id}/versions/{version}", response_model=WorkflowDocument)
async def get_workflow_version(
    workflow_id: str, version: Annotated[int, Path(ge=1, le=1_000_000)], runtime: RuntimeDep
) -> WorkflowDocument:
    """A version's API prompt and the UI graph it came from."""
    row = await runtime.workflows.version(workflow_id, version)
    return WorkflowDocument(
        workflow_id=workflow_id,
        version=row.version,
        source_format=row.source_format,
        api_prompt=row.api_prompt,
        ui_graph=row.ui_graph,
    )


@router.get(
    "/{workflow_id:workflow_id}/export",
    responses={200: {"content": {"application/json": {}}, "description": "The export file"}},
)
async def export_workflow(workflow_id: str, runtime: RuntimeDep) -> Response:
    """The workflow with every version, as one JSON file that `POST /workflows/import` takes."""
    document = await runtime.workflows.export(workflow_id)
    workflow, _ = await runtime.workflows.get(workflow_id)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in workflow.name)[:64] or "workflow"
    return Response(
        json.dumps(document, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{safe}.hangar.json"'},
    )
