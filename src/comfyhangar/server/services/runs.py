"""Runs: checked against the target before anything is queued, queued with the prompt id
recorded first, listed, read and cancelled. The dispatcher (background/dispatcher.py) posts
and follows them.

`create` is all-or-nothing: the target must exist and be ready, the prompt must convert and
take every override, and the target's `/object_info` must have every node type and model file
(a 422 `not_runnable_on_target` naming node, input and file otherwise); then every run of the
batch is inserted with its `run_queued` event in one transaction.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.comfyui import ComfyUIError, UploadedFile
from comfyhangar.comfyui.formats import WorkflowFormat, detect_format
from comfyhangar.comfyui.prompt_inputs import (
    OverrideError,
    PromptInput,
    apply_overrides,
    detect_inputs,
    problems_on,
    vary_seeds,
)
from comfyhangar.core.errors import Conflict, InvalidInput, NotFound
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import Output, Run, RunPreview
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.schemas.runs import TERMINAL_STATES, RunCreate, RunView
from comfyhangar.server.services.comfyui_clients import ComfyUIClients, TargetUnreachable
from comfyhangar.server.services.comfyui_servers import ServerService, Target
from comfyhangar.server.services.presets import PRESETS
from comfyhangar.server.services.workflows import WorkflowService, convert

RUN_QUEUED = EventType.RUN_QUEUED
RUN_PROGRESS = EventType.RUN_PROGRESS
RUN_OUTPUT = EventType.RUN_OUTPUT
RUN_FINISHED = EventType.RUN_FINISHED
ACTIVE_STATES = ("queued", "dispatching", "running")


class NotRunnable(InvalidInput):
    """The target lacks what the prompt needs (node types, model files)."""

    code = "not_runnable_on_target"


class RunFinished(Conflict):
    code = "run_finished"


def utcnow() -> datetime:
    return datetime.now(UTC)


def run_event_data(run: Run, **extra: Any) -> dict[str, Any]:
    """The body of every run event: which run, where, in which state."""
    return {
        "run_id": run.id,
        "batch_id": run.batch_id,
        "server_id": run.server_id,
        "workflow_id": run.workflow_id,
        "state": run.state,
        **extra,
    }


def _with_sources(problem: dict[str, Any]) -> dict[str, Any]:
    """A missing model file with the presets (and their model source) that bring it."""
    if problem["reason"] != "missing_file":
        return problem
    name = str(problem["value"]).rsplit("/", 1)[-1]
    found = [
        {
            "preset": preset.id,
            "folder": model.folder,
            "source": f"huggingface:{model.repo}/{model.file}",
        }
        for preset in PRESETS.values()
        for model in preset.models
        if model.name == name
    ]
    problem["provided_by"] = found
    if found:
        problem["message"] += (
            f"; the preset {found[0]['preset']!r} brings it ({found[0]['source']})"
        )
    return problem


def run_view(run: Run, output_count: int) -> RunView:
    return RunView.model_validate(
        {
            "id": run.id,
            "batch_id": run.batch_id,
            "batch_index": run.batch_index,
            "workflow_id": run.workflow_id,
            "workflow_version": run.workflow_version,
            "deployment_id": run.deployment_id,
            "server_id": run.server_id,
            "overrides": run.overrides,
            "prompt_id": run.prompt_id,
            "state": run.state,
            "cancel_requested": run.cancel_requested,
            "progress": run.progress or {},
            "error": run.error,
            "output_count": output_count,
            "created_at": run.created_at,
            "submitted_at": run.submitted_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
        }
    )


class RunService:
    """Creating, reading and cancelling runs."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        workflows: WorkflowService,
        servers: ServerService,
        clients: ComfyUIClients,
        wake: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._workflows = workflows
        self._servers = servers
        self._clients = clients
        self._wake = wake

    async def _source(self, body: RunCreate) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(API prompt, UI graph) of what is to run."""
        if body.prompt is not None:
            detection = detect_format(body.prompt)
            if detection.format is not WorkflowFormat.API:
                raise InvalidInput.at(
                    "prompt",
                    "an API prompt is needed here (a UI workflow goes into the library first): "
                    + (detection.reason or "this is a UI workflow"),
                )
            return body.prompt, None
        assert body.workflow_id is not None  # noqa: S101 - the request validator makes sure
        version = await self._workflows.version(body.workflow_id, body.workflow_version)
        return version.api_prompt, version.ui_graph

    async def object_info(self, target: Target, *, refresh: bool = False) -> dict[str, Any]:
        """The target's `/object_info` (cached per target)."""
        return await self._clients.object_info(target.endpoint, target.node_set, refresh=refresh)

    async def upload_input(
        self, *, deployment_id: str | None, server_id: str | None, filename: str, data: bytes
    ) -> UploadedFile:
        """Put an input file (an image for LoadImage) on the target's ComfyUI; ComfyUI keeps
        the name if the bytes are the same and renames it when another file has that name."""
        if (deployment_id is None) == (server_id is None):
            raise InvalidInput.at("server_id", "give either deployment_id or server_id")
        target = await self._servers.resolve(deployment_id=deployment_id, server_id=server_id)
        async with self._clients.client(target.endpoint) as comfy:
            try:
                uploaded = await comfy.upload_image(data, filename)
            except ComfyUIError as error:
                raise TargetUnreachable(f"the target's ComfyUI refused the file: {error}") from None
        self._clients.object_info_cache.forget(target.endpoint.base_url)  # its file list grew
        return uploaded

    async def _prepare(
        self, body: RunCreate, target: Target, *, refresh: bool
    ) -> tuple[dict[str, Any], list[PromptInput], list[dict[str, Any]]]:
        info = await self.object_info(target, refresh=refresh)
        api_prompt, ui_graph = await self._source(body)
        if api_prompt is None:
            assert ui_graph is not None  # noqa: S101 - a version has one or the other
            api_prompt, _ = convert(ui_graph, info)
        inputs = detect_inputs(api_prompt, info)
        try:
            prompt = apply_overrides(api_prompt, body.overrides, inputs)
        except OverrideError as error:
            raise InvalidInput.at(f"overrides.{error.key}", error.message) from None
        return prompt, inputs, [_with_sources(p.as_dict()) for p in problems_on(prompt, info)]

    async def create(self, body: RunCreate, owner: str | None = None) -> tuple[str, list[Run]]:
        """Check and queue `body.count` runs owned by `owner` (a user id); (batch id, runs)."""
        target = await self._servers.resolve(
            deployment_id=body.deployment_id, server_id=body.server_id
        )
        prompt, inputs, problems = await self._prepare(body, target, refresh=False)
        if problems:  # the cached node list may predate a model download: look again once
            prompt, inputs, problems = await self._prepare(body, target, refresh=True)
        if problems:
            raise NotRunnable(
                f"{target.name} cannot run this: " + "; ".join(p["message"] for p in problems[:5]),
                details={"problems": problems, "target": {"kind": target.kind, "id": target.id}},
            )
        version = None
        if body.workflow_id is not None:
            version = (
                await self._workflows.version(body.workflow_id, body.workflow_version)
            ).version
        batch_id = uuid.uuid4().hex
        runs = []
        for index in range(body.count):
            one = vary_seeds(
                copy.deepcopy(prompt), inputs, base=body.seed, index=index, mode=body.seed_mode
            )
            runs.append(
                Run(
                    id=uuid.uuid4().hex,
                    batch_id=batch_id,
                    batch_index=index,
                    workflow_id=body.workflow_id,
                    workflow_version=version,
                    deployment_id=target.id if target.kind == "deployment" else None,
                    server_id=target.id if target.kind == "server" else None,
                    overrides=dict(body.overrides),
                    prompt=one,
                    prompt_id=str(uuid.uuid4()),
                    client_id=uuid.uuid4().hex,
                    state="queued",
                    cancel_requested=False,
                    progress={"percent": 0.0, "nodes_done": 0, "nodes_total": len(one)},
                    version=1,
                    owner=owner,
                )
            )
        async with self._sessions() as session, session.begin():
            session.add_all(runs)
            await session.flush()
            for run in runs:
                await append_event(
                    session,
                    RUN_QUEUED,
                    deployment_id=run.deployment_id,
                    data=run_event_data(run, batch_index=run.batch_index),
                )
        self._wake()
        return batch_id, runs

    async def output_counts(self, run_ids: Sequence[str]) -> dict[str, int]:
        if not run_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(Output.run_id, func.count())
                .where(Output.run_id.in_(list(run_ids)))
                .group_by(Output.run_id)
            )
            return {run_id: int(count) for run_id, count in rows.all()}

    async def views(self, runs: Sequence[Run]) -> list[RunView]:
        counts = await self.output_counts([r.id for r in runs])
        return [run_view(r, counts.get(r.id, 0)) for r in runs]

    async def list(
        self,
        *,
        state: str | None,
        workflow_id: str | None,
        deployment_id: str | None,
        server_id: str | None,
        batch_id: str | None,
        limit: int,
        offset: int,
        owner: str | None = None,
    ) -> tuple[list[Run], int]:
        """Runs, newest first, with the filters given (`owner` keeps one user's)."""
        query = select(Run)
        for column, value in (
            (Run.owner, owner),
            (Run.state, state),
            (Run.workflow_id, workflow_id),
            (Run.deployment_id, deployment_id),
            (Run.server_id, server_id),
            (Run.batch_id, batch_id),
        ):
            if value is not None:
                query = query.where(column == value)
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(
                query.order_by(Run.created_at.desc(), Run.batch_index.desc(), Run.id)
                .limit(limit)
                .offset(offset)
            )
            return list(rows.all()), int(total or 0)

    async def get(self, run_id: str) -> Run:
        async with self._sessions() as session:
            run = await session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run {run_id}")
        return run

    async def preview(self, run_id: str) -> RunPreview:
        """The latest preview of a running run (404 when there is none: not started, not a
        sampler, or ended: its outputs are the images then)."""
        async with self._sessions() as session:
            row = await session.get(RunPreview, run_id)
            if row is None:
                if await session.get(Run, run_id) is None:
                    raise NotFound(f"no run {run_id}")
                raise NotFound(f"run {run_id} has no preview now")
            return row

    async def cancel(self, run_id: str) -> Run:
        """Cancel a run: at once if nobody has taken it up yet, else through its dispatcher
        (which deletes or interrupts only this run's prompt). 409 if it already ended."""
        now = utcnow()
        async with self._sessions() as session, session.begin():
            run = await session.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id}")
            if run.state in TERMINAL_STATES:
                raise RunFinished(f"run {run_id} already {run.state}", details={"state": run.state})
            taken = await session.execute(
                update(Run)
                .where(
                    Run.id == run_id,
                    Run.state == "queued",
                    Run.submitted_at.is_(None),
                    or_(Run.lock_token.is_(None), Run.lock_expires_at < now),
                )
                .values(
                    state="cancelled",
                    cancel_requested=True,
                    finished_at=now,
                    version=Run.version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                await session.refresh(run)
                await append_event(
                    session,
                    RUN_FINISHED,
                    deployment_id=run.deployment_id,
                    data=run_event_data(run, reason="cancelled before it was sent"),
                )
            else:
                run.cancel_requested = True
        self._wake()
        return await self.get(run_id)
