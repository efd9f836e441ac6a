"""Following one run: post it once, follow its events, copy its outputs home, write its end.

`RunFollower` is what the dispatcher (dispatcher.py, whose module doc says why it is safe to
crash at any point) runs for each run it holds the lease of.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.comfyui import (
    ComfyUIClient,
    ComfyUIError,
    ComfyUIUnreachable,
    OutputFile,
    PromptFinished,
    PromptLost,
    PromptRejected,
    PromptResult,
)
from comfyhangar.comfyui.events import (
    Event,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionStart,
    Preview,
    Progress,
    ProgressState,
)
from comfyhangar.comfyui.wire import output_files
from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.server.background.leases import Lease, LeaseLostError
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import ComfyUIServer, Deployment, Output, Run, RunPreview
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.comfyui_access import ComfyEndpoint, ComfyUIAccess
from comfyhangar.server.services.comfyui_clients import ComfyUIClients
from comfyhangar.server.services.output_store import (
    OutputStore,
    content_type,
    output_key,
)
from comfyhangar.server.services.runs import (
    ACTIVE_STATES,
    RUN_FINISHED,
    RUN_OUTPUT,
    RUN_PROGRESS,
    run_event_data,
)
from comfyhangar.server.views import API

log = logging.getLogger(__name__)
# Previews larger than this are not kept (ComfyUI's are a few tens of kB).
MAX_PREVIEW_BYTES = 2 * 1024 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DispatchSettings:
    """- `lease_s`: how long a run's lease lasts unrenewed (renewed every third of it).
    - `poll_s`: seconds between looks for runs to take up (a new run wakes it at once).
    - `progress_every_s`: at most one `run_progress` per run this often.
    - `give_up_after_s`: how long a run's ComfyUI may stay out of reach before it fails.
    - `max_active`: runs followed at once by this process."""

    lease_s: float = 30.0
    poll_s: float = 1.0
    progress_every_s: float = 0.5
    give_up_after_s: float = 300.0
    reconcile_after_s: float = 10.0
    max_active: int = 200


class FollowEnded(Exception):
    """The run's end was written (or is another process's to write): stop following it."""


class _TargetGone(Exception):
    """The run's deployment stopped (or went) while the run was on it: its prompt cannot end."""


class _Withdrawn(Exception):
    """A cancelled run's prompt was deleted from ComfyUI's queue before it ran."""


@dataclass
class RunProgress:
    total: int
    cached: set[str] = field(default_factory=set)
    nodes: dict[str, float] = field(default_factory=dict)  # node -> fraction done
    node: str | None = None
    step: int | None = None
    steps: int | None = None

    def view(self) -> dict[str, Any]:
        done = sum(1 for v in self.nodes.values() if v >= 1.0) + len(self.cached - set(self.nodes))
        partial = sum(v for v in self.nodes.values() if v < 1.0)
        percent = 100.0 * min(1.0, (done + partial) / self.total) if self.total else 0.0
        return {
            "node": self.node,
            "step": self.step,
            "steps": self.steps,
            "percent": round(percent, 1),
            "nodes_done": done,
            "nodes_total": self.total,
        }


class RunFollower:
    """Follows one leased run to its end (see the dispatcher's module doc)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clients: ComfyUIClients,
        store: OutputStore,
        access: ComfyUIAccess,
        settings: DispatchSettings,
        lease: Lease,
        nudge: asyncio.Event,
    ) -> None:
        self.sessions = sessions
        self.clients = clients
        self.store = store
        self.access = access
        self.settings = settings
        self.lease = lease
        self.nudge = nudge
        self.run_id = lease.deployment_id
        self.copied: set[tuple[str, str, str, str]] = set()
        self.last_progress = 0.0
        self.progress_dirty = False
        self.cancel_sent = False
        self.preview: Preview | None = None  # the latest, not yet written

    async def load(self) -> Run:
        async with self.sessions() as session:
            run = await session.get(Run, self.run_id)
        if run is None:
            raise FollowEnded
        return run

    async def drive(self) -> None:
        """Post (if it never was) and follow the run until its end is written; raises
        `FollowEnded` then, `LeaseLostError` if another process took over."""
        run = await self.load()
        if run.state not in ACTIVE_STATES:
            await self.lease.release()
            raise FollowEnded
        endpoint, why_not = await self.endpoint(run)
        if endpoint is None:
            if run.submitted_at is None:
                await self.finish(
                    run, "failed", {"type": "target_gone", "message": why_not, "nodes": []}
                )
            else:
                await self.finish(run, "failed", {"type": "lost", "message": why_not, "nodes": []})
            return
        if run.cancel_requested and run.submitted_at is None:
            await self.finish(run, "cancelled", None, reason="cancelled before it was sent")
            return
        if run.cancel_requested:
            self.nudge.set()  # asked before a take-over: deliver it at once
        async with self.sessions() as session:
            stored = await session.scalars(select(Output).where(Output.run_id == run.id))
            self.copied = {(o.node_id, o.folder_type, o.subfolder, o.filename) for o in stored}
        async with self.clients.client(endpoint, client_id=run.client_id) as comfy:
            await self.follow(comfy, run)

    async def endpoint(self, run: Run) -> tuple[ComfyEndpoint | None, str]:
        async with self.sessions() as session:
            if run.server_id is not None:
                server = await session.get(ComfyUIServer, run.server_id)
                if server is None:
                    return None, "the ComfyUI server was removed"
                return self.access.server_endpoint(server), ""
            dep = await session.get(Deployment, run.deployment_id) if run.deployment_id else None
        if dep is None:
            return None, "the target was removed"
        if dep.state != DeploymentState.READY.value or dep.pod_id is None:
            return None, f"deployment {dep.name} is {dep.state}, not ready"
        return await self.access.comfyui_endpoint(dep), ""

    async def follow(self, comfy: ComfyUIClient, run: Run) -> None:
        progress = RunProgress(total=len(run.prompt))
        stream = comfy.events(
            reconcile_after_s=self.settings.reconcile_after_s,
            give_up_after_s=self.settings.give_up_after_s,
        )
        try:
            async with stream, self.keeper(comfy):
                subscription = stream.subscribe(run.prompt_id)
                try:
                    if run.state == "queued":
                        await self.apply(run, {"state": "dispatching"})
                    if run.submitted_at is None:
                        if (await self.load()).cancel_requested:
                            await self.finish(
                                run, "cancelled", None, reason="cancelled before it was sent"
                            )
                            return
                        await comfy.submit(
                            run.prompt, prompt_id=run.prompt_id, client_id=stream.client_id
                        )
                        await self.apply(run, {"submitted_at": utcnow()})
                    async for item in subscription:
                        if isinstance(item, PromptFinished):
                            await self.finished(comfy, run, item.result)
                            return
                        await self.on_event(comfy, run, item, progress)
                finally:
                    subscription.close()
        except PromptRejected as error:
            nodes = [
                {"node_id": n, "class_type": c or None, "input": i or None, "message": m}
                for n, c, i, m in error.problems()
            ]
            await self.finish(
                run, "failed", {"type": "rejected", "message": str(error), "nodes": nodes}
            )
        except _Withdrawn:
            await self.finish(run, "cancelled", None, reason="taken out of ComfyUI's queue")
        except _TargetGone as gone:
            await self.finish(
                run, "failed", {"type": "target_gone", "message": str(gone), "nodes": []}
            )
        except PromptLost as error:
            if (await self.load()).cancel_requested:
                await self.finish(run, "cancelled", None, reason="taken out of ComfyUI's queue")
            await self.finish(run, "failed", {"type": "lost", "message": str(error), "nodes": []})
        except ComfyUIUnreachable as error:
            if run.submitted_at is None and not error.outcome_unknown:
                raise  # never reached the server: released, tried again on a later cycle
            await self.finish(
                run, "failed", {"type": "unreachable", "message": str(error), "nodes": []}
            )

    async def deployment_gone(self, deployment_id: str) -> str | None:
        """Why the run's deployment can no longer finish it (None while it is ready)."""
        async with self.sessions() as session:
            dep = await session.get(Deployment, deployment_id)
        if dep is None:
            return "the deployment was removed while the run was on it"
        if dep.state != DeploymentState.READY.value:
            return f"deployment {dep.name} became {dep.state} while the run was on it"
        return None

    @contextlib.asynccontextmanager
    async def keeper(self, comfy: ComfyUIClient) -> AsyncIterator[None]:
        """Renew the lease while the block runs; act on a cancel as soon as it is asked; end
        the run when its deployment stops under it."""
        every = self.settings.lease_s / 3

        async def keep() -> None:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.nudge.wait(), every)
                self.nudge.clear()
                if not await self.lease.renew(self.settings.lease_s):
                    log.warning("lease on run %s lost while following it", self.run_id)
                    raise LeaseLostError(self.run_id)
                run = await self.load()
                if run.deployment_id is not None and run.submitted_at is not None:
                    why = await self.deployment_gone(run.deployment_id)
                    if why is not None:
                        raise _TargetGone(why)
                if run.cancel_requested and run.submitted_at is not None and not self.cancel_sent:
                    self.cancel_sent = True
                    try:
                        where = await comfy.cancel(run.prompt_id)  # only ours
                    except ComfyUIError as error:
                        log.warning("run %s: cancel not delivered yet: %s", self.run_id, error)
                        self.cancel_sent = False
                        continue
                    if where.state == "unknown":
                        raise _Withdrawn  # it was waiting: deleted, it will send nothing more

        task = asyncio.create_task(keep())
        follower = asyncio.current_task()

        def lost(done: asyncio.Task[None]) -> None:
            if not done.cancelled() and done.exception() is not None and follower is not None:
                follower.cancel()

        task.add_done_callback(lost)
        try:
            yield
        except asyncio.CancelledError:
            failure = task.exception() if task.done() and not task.cancelled() else None
            if failure is not None:
                if follower is not None:
                    follower.uncancel()  # our own cancel, turned into the error it stands for
                raise failure from None
            raise
        finally:
            task.remove_done_callback(lost)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- writes under the lease ------------------------------------------------------------------

    async def apply(
        self,
        run: Run,
        values: dict[str, Any],
        event: tuple[EventType, dict[str, Any]] | None = None,
    ) -> None:
        """Write `values` (and an event) under the lease, keeping it."""
        async with self.sessions() as session, session.begin():
            await self.lease.apply(session, values, release=False)
            for name, value in values.items():
                setattr(run, name, value)
            if event is not None:
                await append_event(
                    session, event[0], deployment_id=run.deployment_id, data=event[1]
                )

    async def on_event(
        self, comfy: ComfyUIClient, run: Run, event: Event, progress: RunProgress
    ) -> None:
        if isinstance(event, ExecutionStart):
            if run.state != "running":
                values = {"state": "running", "started_at": utcnow()}
                run.state = "running"
                await self.apply(
                    run, values, (RUN_PROGRESS, run_event_data(run, progress=progress.view()))
                )
            return
        if isinstance(event, ExecutionCached):
            progress.cached.update(event.nodes)
        elif isinstance(event, Executing) and event.node is not None:
            if progress.node is not None and progress.node != event.node:
                progress.nodes[progress.node] = 1.0
            progress.node, progress.step, progress.steps = event.node, None, None
            progress.nodes.setdefault(event.node, 0.0)
        elif isinstance(event, Progress):
            progress.node, progress.step, progress.steps = event.node, event.value, event.max
            if event.max:
                progress.nodes[event.node] = min(0.999, event.value / event.max)
        elif isinstance(event, ProgressState):
            for node_id, state in event.nodes.items():
                if state.state == "finished":
                    progress.nodes[node_id] = 1.0
        elif isinstance(event, Executed):
            progress.nodes[event.node] = 1.0
            if event.output:
                await self.copy(comfy, run, output_files({event.node: event.output}))
        elif isinstance(event, Preview) and len(event.data) <= MAX_PREVIEW_BYTES:
            self.preview = event
        else:
            return
        self.progress_dirty = True
        if time.monotonic() - self.last_progress >= self.settings.progress_every_s:
            await self.write_progress(run, progress)

    async def write_progress(self, run: Run, progress: RunProgress) -> None:
        """The progress (and the latest preview, if a new one came) with its event."""
        view = progress.view()
        self.last_progress = time.monotonic()
        self.progress_dirty = False
        preview, self.preview = self.preview, None
        data = run_event_data(run, progress=view)
        if preview is not None:
            data["preview_url"] = f"{API}/runs/{run.id}/preview"
        async with self.sessions() as session, session.begin():
            await self.lease.apply(session, {"progress": view}, release=False)
            run.progress = view
            if preview is not None:
                await session.merge(
                    RunPreview(
                        run_id=run.id,
                        node_id=preview.node_id,
                        content_type=preview.image_type,
                        data=preview.data,
                        updated_at=utcnow(),
                    )
                )
            await append_event(session, RUN_PROGRESS, deployment_id=run.deployment_id, data=data)

    async def copy(self, comfy: ComfyUIClient, run: Run, files: list[OutputFile]) -> None:
        """Copy each file not yet home, and record it with its event."""
        for file in files:
            ident = (file.node_id, file.type, file.subfolder, file.filename)
            if ident in self.copied:
                continue
            try:
                key = output_key(run.id, file.node_id or "_", file.subfolder, file.filename)
            except ValueError:
                log.warning("run %s: refused output name %r", run.id, file.filename)
                continue

            async def chunks(f: OutputFile = file) -> AsyncIterator[bytes]:
                async with comfy.open_output(f) as response:
                    async for chunk in response.aiter_bytes(1 << 20):
                        yield chunk

            stored = await self.store.put(key, chunks())
            row = Output(
                id=_new_id(),
                run_id=run.id,
                node_id=file.node_id,
                kind=file.kind,
                folder_type=file.type,
                subfolder=file.subfolder,
                filename=file.filename,
                content_type=content_type(file.filename),
                size=stored.size,
                sha256=stored.sha256,
                width=stored.width,
                height=stored.height,
                storage_key=key,
            )
            try:
                async with self.sessions() as session, session.begin():
                    await self.lease.apply(session, {}, release=False)
                    session.add(row)
                    await session.flush()
                    await append_event(
                        session,
                        RUN_OUTPUT,
                        deployment_id=run.deployment_id,
                        data=run_event_data(
                            run,
                            output_id=row.id,
                            node_id=row.node_id,
                            filename=row.filename,
                            content_type=row.content_type,
                            size=row.size,
                            width=row.width,
                            height=row.height,
                        ),
                    )
            except IntegrityError:
                pass  # recorded before a crash: the file was just written again, same key
            self.copied.add(ident)

    async def finished(self, comfy: ComfyUIClient, run: Run, result: PromptResult) -> None:
        """The prompt ended: bring home what is left, then write how it ended."""
        try:
            await self.copy(comfy, run, result.files)
        except ComfyUIError as error:
            log.warning("run %s: an output could not be copied: %s", run.id, error)
            raise  # released: a later take-over copies it (the history keeps the list)
        if result.outcome == "success":
            await self.finish(run, "succeeded", None)
        elif result.outcome == "interrupted":
            state = "cancelled" if (await self.load()).cancel_requested else "failed"
            where = result.interrupted
            stopped: dict[str, Any] | None = (
                None
                if state == "cancelled"
                else {
                    "type": "interrupted",
                    "message": "interrupted on the ComfyUI (not by ComfyHangar)",
                    "nodes": [
                        {
                            "node_id": where.node_id,
                            "class_type": where.node_type,
                            "message": "interrupted",
                        }
                    ]
                    if where
                    else [],
                }
            )
            await self.finish(run, state, stopped)
        else:
            failure = result.error
            nodes = []
            if failure is not None:
                nodes = [
                    {
                        "node_id": failure.node_id,
                        "class_type": failure.node_type,
                        "message": f"{failure.exception_type}: {failure.exception_message.strip()}",
                    }
                ]
            message = nodes[0]["message"] if nodes else "the prompt failed"
            await self.finish(
                run, "failed", {"type": "execution_error", "message": message, "nodes": nodes}
            )

    async def finish(
        self, run: Run, state: str, error: dict[str, Any] | None, *, reason: str | None = None
    ) -> None:
        """Write the run's end with its `run_finished` event, and give the lease back."""
        now = utcnow()
        progress = dict(run.progress or {})
        if state == "succeeded":
            progress.update(percent=100.0, node=None, step=None, steps=None)
            progress["nodes_done"] = progress.get("nodes_total", 0)
        values: dict[str, Any] = {
            "state": state,
            "error": error,
            "finished_at": now,
            "progress": progress,
        }
        async with self.sessions() as session, session.begin():
            await self.lease.apply(session, values, release=True)
            await session.execute(delete(RunPreview).where(RunPreview.run_id == run.id))
            for name, value in values.items():
                setattr(run, name, value)
            data = run_event_data(run, error=error, outputs=len(self.copied))
            if reason:
                data["reason"] = reason
            await append_event(session, RUN_FINISHED, deployment_id=run.deployment_id, data=data)
        raise FollowEnded


def _new_id() -> str:
    return uuid.uuid4().hex
