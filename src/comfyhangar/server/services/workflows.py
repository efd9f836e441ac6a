"""The workflow library: uploads (JSON in either format, or a PNG/WebP carrying one), versions,
inputs, export and import, and conversion against a target's nodes.

A UI workflow is converted on upload against the reference node set (ComfyUI 0.3.64's core
nodes, as the emulator serves them); one that uses custom nodes the reference lacks is stored
without an API prompt and converted against the target's `/object_info` when it runs. Every
change is a new immutable version; runs name the version they used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.comfyui.convert import ui_to_api
from comfyhangar.comfyui.embedded import PNG_SIGNATURE, read_embedded
from comfyhangar.comfyui.errors import ConversionError
from comfyhangar.comfyui.formats import WorkflowFormat, detect_format
from comfyhangar.comfyui.prompt_inputs import PromptInput, detect_inputs
from comfyhangar.core.errors import Conflict, HangarError, InvalidInput, NotFound
from comfyhangar.emulators.comfyui.nodes import core_nodes
from comfyhangar.emulators.comfyui.nodes.placeholders import resolve
from comfyhangar.server.db.models import Workflow, WorkflowVersion

# The largest workflow file taken (JSON or image); the request body limit of the upload routes.
MAX_WORKFLOW_BYTES = 32 * 1024 * 1024
EXPORT_FORMAT = "comfyhangar.workflow/1"
MAX_TAGS = 20


class WorkflowUnreadable(InvalidInput):
    """An upload that is not a workflow. `reason`: invalid_json, unknown_format,
    no_workflow_in_image, invalid_export."""

    code = "invalid_workflow"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, details={"reason": reason})


class UploadTooLarge(HangarError):
    code = "payload_too_large"
    http_status = 413


class WorkflowNameTaken(Conflict):
    code = "name_taken"


@cache
def reference_object_info() -> dict[str, Any]:
    """`/object_info` of ComfyUI 0.3.64's core nodes, with no model files (file lists are a
    pod's own; widget positions, which conversion needs, are not)."""
    return {name: resolve(node.definition, {}, list) for name, node in core_nodes().items()}


@dataclass(frozen=True)
class ParsedWorkflow:
    source_format: str  # ui | api
    api_prompt: dict[str, Any] | None
    ui_graph: dict[str, Any] | None
    inputs: list[PromptInput]


def convert(
    workflow: Mapping[str, Any], object_info: Mapping[str, Any]
) -> tuple[dict[str, Any], list[PromptInput]]:
    """A UI workflow as the API prompt the frontend would queue, and its inputs."""
    prompt = ui_to_api(workflow, object_info)
    return prompt, detect_inputs(prompt, object_info)


def parse_document(document: Any, *, origin: str = "the file") -> ParsedWorkflow:
    """A JSON document in either format (refused with the reason when it is neither)."""
    detection = detect_format(document)
    if detection.format is WorkflowFormat.UNKNOWN:
        raise WorkflowUnreadable(
            "unknown_format",
            f"{origin} is neither a UI workflow nor an API prompt: {detection.reason}",
        )
    info = reference_object_info()
    if detection.format is WorkflowFormat.API:
        return ParsedWorkflow("api", dict(document), None, detect_inputs(document, info))
    try:
        prompt, inputs = convert(document, info)
    except ConversionError as error:
        if error.reason != "unknown_node_type":
            raise
        return ParsedWorkflow("ui", None, dict(document), [])  # custom nodes: at run time
    return ParsedWorkflow("ui", prompt, dict(document), inputs)


def parse_upload(data: bytes) -> ParsedWorkflow:
    """An uploaded file: JSON (UI or API format) or a PNG/WebP that ComfyUI wrote."""
    if len(data) > MAX_WORKFLOW_BYTES:
        raise UploadTooLarge(f"workflow files over {MAX_WORKFLOW_BYTES:,} bytes are refused")
    if not data.strip():
        raise WorkflowUnreadable("invalid_json", "the file is empty")
    if data.startswith(PNG_SIGNATURE) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        embedded = read_embedded(data)
        kind = embedded.image_format.upper()
        if embedded.workflow is None and embedded.prompt is None:
            raise WorkflowUnreadable(
                "no_workflow_in_image",
                f"this {kind} carries no workflow (saved with metadata off?)",
            )
        if embedded.workflow is not None:
            parsed = parse_document(embedded.workflow, origin=f"the {kind}'s workflow")
            if (
                embedded.prompt is not None
                and detect_format(embedded.prompt).format is WorkflowFormat.API
            ):
                # The prompt the image was made with: exact, whatever nodes the graph uses.
                info = reference_object_info()
                return ParsedWorkflow(
                    "ui", embedded.prompt, parsed.ui_graph, detect_inputs(embedded.prompt, info)
                )
            return parsed
        return parse_document(embedded.prompt, origin=f"the {kind}'s prompt")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise WorkflowUnreadable(
            "invalid_json", "the file is not valid JSON, nor a PNG or WebP image"
        ) from None
    return parse_document(document)


def clean_tags(tags: Sequence[str]) -> list[str]:
    """Tags as given in a comma-separated field: trimmed, unique, bounded."""
    found: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 32 or not tag.isprintable():
            raise InvalidInput.at("tags", f"{tag[:40]!r}: a tag is at most 32 printable characters")
        if tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise InvalidInput.at("tags", f"at most {MAX_TAGS} tags")
    return found


def check_name(name: str) -> str:
    if not name or name != name.strip() or len(name) > 128 or not name.isprintable():
        raise InvalidInput.at("name", "1 to 128 printable characters, no leading or trailing space")
    return name


class WorkflowService:
    """The library's reads and writes; every write is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self, parsed: ParsedWorkflow, *, name: str, description: str, tags: list[str]
    ) -> Workflow:
        workflow = Workflow(
            id=uuid.uuid4().hex,
            name=check_name(name),
            description=description,
            tags=tags,
            latest_version=1,
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(workflow)
                await session.flush()
                session.add(_version(workflow.id, 1, parsed, note="uploaded"))
        except IntegrityError:
            raise WorkflowNameTaken(
                f"a workflow named {name!r} already exists: add a version to it, or pick "
                "another name",
                details={"errors": [{"field": "name", "message": "taken"}]},
            ) from None
        return workflow

    async def add_version(self, workflow_id: str, parsed: ParsedWorkflow, note: str) -> int:
        """A new version of the workflow; its number."""
        try:
            async with self._sessions() as session, session.begin():
                workflow = await session.get(Workflow, workflow_id, with_for_update=True)
                if workflow is None:
                    raise NotFound(f"no workflow {workflow_id}")
                number = workflow.latest_version + 1
                workflow.latest_version = number
                session.add(_version(workflow_id, number, parsed, note=note))
        except IntegrityError:  # another version was added at the same moment
            raise Conflict("the workflow changed meanwhile; send the version again") from None
        return number

    async def list(
        self, *, tag: str | None, search: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[Workflow, WorkflowVersion]], int]:
        query = select(Workflow)
        if search:
            query = query.where(Workflow.name.contains(search, autoescape=True))
        async with self._sessions() as session:
            rows = list(
                (
                    await session.scalars(query.order_by(Workflow.updated_at.desc(), Workflow.id))
                ).all()
            )
            if tag:
                rows = [w for w in rows if tag in w.tags]
            total = len(rows)
            page = rows[offset : offset + limit]
            out: list[tuple[Workflow, WorkflowVersion]] = []
            for workflow in page:
                version = await session.get(WorkflowVersion, (workflow.id, workflow.latest_version))
                assert version is not None  # noqa: S101 - written with the workflow
                out.append((workflow, version))
        return out, total

    async def get(self, workflow_id: str) -> tuple[Workflow, Sequence[WorkflowVersion]]:
        """The workflow and its versions, newest first."""
        async with self._sessions() as session:
            workflow = await session.get(Workflow, workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow {workflow_id}")
            versions = (
                await session.scalars(
                    select(WorkflowVersion)
                    .where(WorkflowVersion.workflow_id == workflow_id)
                    .order_by(WorkflowVersion.version.desc())
                )
            ).all()
        return workflow, versions

    async def version(self, workflow_id: str, version: int | None) -> WorkflowVersion:
        """One version (the latest when None)."""
        async with self._sessions() as session:
            workflow = await session.get(Workflow, workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow {workflow_id}")
            number = version or workflow.latest_version
            row = await session.get(WorkflowVersion, (workflow_id, number))
        if row is None:
            raise NotFound(f"workflow {workflow.name} has no version {number}")
        return row

    async def delete(self, workflow_id: str) -> None:
        """Remove the workflow and its versions; runs keep their prompt and outputs."""
        async with self._sessions() as session, session.begin():
            workflow = await session.get(Workflow, workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow {workflow_id}")
            await session.execute(
                delete(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
            )
            await session.delete(workflow)

    async def export(self, workflow_id: str) -> dict[str, Any]:
        """The workflow with every version, as `import_` takes it back."""
        workflow, versions = await self.get(workflow_id)
        return {
            "format": EXPORT_FORMAT,
            "name": workflow.name,
            "description": workflow.description,
            "tags": workflow.tags,
            "versions": [
                {
                    "version": v.version,
                    "source_format": v.source_format,
                    "api_prompt": v.api_prompt,
                    "ui_graph": v.ui_graph,
                    "note": v.note,
                }
                for v in sorted(versions, key=_number)
            ],
        }

    async def import_(self, data: bytes, *, name: str | None) -> Workflow:
        """A workflow from `export`'s document (its versions renumbered from 1)."""
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise WorkflowUnreadable("invalid_export", "the file is not valid JSON") from None
        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise WorkflowUnreadable(
                "invalid_export", f"not a ComfyHangar workflow export (format {EXPORT_FORMAT})"
            )
        versions = document.get("versions")
        if not isinstance(versions, list) or not versions:
            raise WorkflowUnreadable("invalid_export", "the export has no versions")
        parsed: list[tuple[ParsedWorkflow, str]] = []
        for number, entry in enumerate(versions, 1):
            if not isinstance(entry, dict):
                raise WorkflowUnreadable("invalid_export", f"version #{number} is not an object")
            source = (
                entry.get("ui_graph")
                if entry.get("ui_graph") is not None
                else entry.get("api_prompt")
            )
            one = parse_document(source, origin=f"version #{number}")
            api = entry.get("api_prompt")
            if isinstance(api, dict) and detect_format(api).format is WorkflowFormat.API:
                one = ParsedWorkflow(
                    one.source_format,
                    api,
                    one.ui_graph,
                    detect_inputs(api, reference_object_info()),
                )
            note = entry.get("note") if isinstance(entry.get("note"), str) else ""
            parsed.append((one, str(note)[:500]))
        raw_tags = document.get("tags")
        tags = raw_tags if isinstance(raw_tags, list) else []
        description = document.get("description")
        first, note = parsed[0]
        workflow = await self.create(
            first,
            name=name or str(document.get("name") or ""),
            description=description[:2000] if isinstance(description, str) else "",
            tags=clean_tags([str(t) for t in tags]),
        )
        for one, note in parsed[1:]:
            await self.add_version(workflow.id, one, note)
        workflow.latest_version = len(parsed)
        return workflow


def _number(version: WorkflowVersion) -> int:
    return version.version


def _version(
    workflow_id: str, number: int, parsed: ParsedWorkflow, *, note: str
) -> WorkflowVersion:
    return WorkflowVersion(
        workflow_id=workflow_id,
        version=number,
        source_format=parsed.source_format,
        api_prompt=parsed.api_prompt,
        ui_graph=parsed.ui_graph,
        inputs=[i.as_dict() for i in parsed.inputs],
        note=note,
    )
