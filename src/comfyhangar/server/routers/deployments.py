"""`/deployments`: deploy, list, read, stop, start, restart, terminate, idle policy,
keep-awake, logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sse_starlette import EventSourceResponse, ServerSentEvent

from comfyhangar.core.access import Principal
from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.runpod.models import Pod
from comfyhangar.server.auth import PrincipalDep
from comfyhangar.server.db.models import Deployment, LogLine
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import (
    DeploymentCreate,
    DeploymentDetail,
    DeploymentList,
    DeploymentView,
    LogLineView,
    LogTail,
)
from comfyhangar.server.schemas.idle import IdlePolicyInput, KeepAwakeRequest
from comfyhangar.server.schemas.limits import MAX_INT64, LastEventId, ResumeAfter
from comfyhangar.server.views import deployment_detail, deployment_view, render_list

router = APIRouter(prefix="/deployments", tags=["deployments"])
LOG_POLL_S = 0.5


async def _visible(
    runtime: Runtime, principal: Principal, deployment_id: str, *, act: bool = False
) -> Deployment:
    """The deployment if the principal may see (with `act`, change) it; see
    `DeploymentService.visible`."""
    return await runtime.deployments.visible(principal, deployment_id, act=act)


async def _view(runtime: Runtime, dep: Deployment) -> DeploymentView:
    async with runtime.sessions() as session:
        row = await session.get(PodRow, dep.pod_id) if dep.pod_id else None
    live = runtime.reconciler.pods.get(dep.pod_id) if dep.pod_id else None
    cost = (await runtime.costs.for_deployments([(dep, row)])).get(dep.id)
    return deployment_view(
        dep,
        row,
        live,
        simulated=runtime.cloud.simulated,
        cost=cost,
        idle_default=runtime.idle.default,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DeploymentView)
async def create_deployment(
    body: DeploymentCreate, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """Deploy ComfyUI on a new pod, owned by the caller. The pod is created in the background;
    watch `/events`."""
    dep = await runtime.deployments.create(body, owner_id=principal.user_id)
    return await _view(runtime, dep)


@router.get("", response_model=DeploymentList)
async def list_deployments(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    state: Annotated[DeploymentState | None, Query()] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=1000, description="At most this many (default: all)")
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_INT64, description="Skip this many first (0 to 2^63-1)")
    ] = 0,
) -> Response:
    """Every deployment the caller may see (a member: their own), newest first; `state`
    filters; `limit` and `offset` page."""
    # Serialised once, here (a returned Response skips FastAPI's own validation and
    # serialisation; `response_model` still documents it), and kept until anything it shows
    # changes: see `RenderedLists`.
    status_ = state.value if state else None
    owner = None if principal.sees_everything else principal.user_id

    async def render() -> tuple[bytes, dict[str, Pod | None]]:
        live = runtime.reconciler.pods
        rows = await runtime.deployments.list_with_pods(
            status_, limit=limit, offset=offset, owner_id=owner
        )
        costs = await runtime.costs.for_deployments(rows)
        return render_list(
            rows, live, costs, simulated=runtime.cloud.simulated, idle_default=runtime.idle.default
        )

    lists = runtime.deployments.rendered_lists
    if lists is None:
        body, _ = await render()
    else:
        body = await lists.body(
            (status_, limit, offset, owner),
            event_id=runtime.events.last_id,
            live=runtime.reconciler.pods,
            render=render,
        )
    return Response(body, media_type="application/json")


@router.get("/{deployment_id}", response_model=DeploymentDetail)
async def get_deployment(
    deployment_id: str, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentDetail:
    """One deployment with its pod, setup steps and state history."""
    await _visible(runtime, principal, deployment_id)
    dep, row, history = await runtime.deployments.detail_rows(deployment_id)
    live = runtime.reconciler.pods.get(dep.pod_id) if dep.pod_id else None
    cost = (await runtime.costs.for_deployments([(dep, row)])).get(dep.id)
    return deployment_detail(
        dep,
        row,
        live,
        history,
        simulated=runtime.cloud.simulated,
        cost=cost,
        idle_default=runtime.idle.default,
    )


@router.get(
    "/{deployment_id}/open",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    response_class=RedirectResponse,
    responses={409: {"description": "The deployment is not ready"}},
)
async def open_comfyui(
    deployment_id: str, runtime: RuntimeDep, principal: PrincipalDep
) -> RedirectResponse:
    """One click to ComfyUI, for whoever may change the deployment: a redirect to the pod's
    proxy carrying the pod token (ready only). The proxy trades the token for a cookie and
    redirects to the same address without it, so it stays out of the browser's history; this
    response is never cached and sends no Referer."""
    # Where that is comes from `comfyui_endpoint`: RunPod's proxy address, or in the simulated
    # cloud a path of this server (`/simulated-pods/{pod_id}/comfyui/`).
    dep = await _visible(runtime, principal, deployment_id, act=True)
    endpoint = await runtime.comfyui.comfyui_endpoint(dep)
    return RedirectResponse(
        endpoint.browser_link(),
        status_code=status.HTTP_307_TEMPORARY_REDIRECT,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.post(
    "/{deployment_id}/stop", status_code=status.HTTP_202_ACCEPTED, response_model=DeploymentView
)
async def stop_deployment(
    deployment_id: str, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """Stop the pod (no GPU billed; the volume is kept). Idempotent."""
    await _visible(runtime, principal, deployment_id, act=True)
    return await _view(runtime, await runtime.deployments.stop(deployment_id))


@router.post(
    "/{deployment_id}/start", status_code=status.HTTP_202_ACCEPTED, response_model=DeploymentView
)
async def start_deployment(
    deployment_id: str, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """Start a stopped pod again (or retry a deployment whose pod could not be made)."""
    await _visible(runtime, principal, deployment_id, act=True)
    return await _view(runtime, await runtime.deployments.start(deployment_id))


@router.post(
    "/{deployment_id}/restart", status_code=status.HTTP_202_ACCEPTED, response_model=DeploymentView
)
async def restart_deployment(
    deployment_id: str, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """Restart the running pod's container (setup runs again, skipping what is done)."""
    await _visible(runtime, principal, deployment_id, act=True)
    return await _view(runtime, await runtime.deployments.restart(deployment_id))


@router.delete(
    "/{deployment_id}", status_code=status.HTTP_202_ACCEPTED, response_model=DeploymentView
)
async def terminate_deployment(
    deployment_id: str, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """Terminate the pod for good (its volume disk is destroyed). Idempotent."""
    await _visible(runtime, principal, deployment_id, act=True)
    return await _view(runtime, await runtime.deployments.terminate(deployment_id))


@router.patch("/{deployment_id}/idle", response_model=DeploymentView)
async def set_idle_policy(
    deployment_id: str, body: IdlePolicyInput, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """Change the idle policy: the fields given change, the rest stay (a 422 names a bad one)."""
    await _visible(runtime, principal, deployment_id, act=True)
    return await _view(runtime, await runtime.idle.set_policy(deployment_id, body))


@router.post("/{deployment_id}/keep-awake", response_model=DeploymentView)
async def keep_awake(
    deployment_id: str, body: KeepAwakeRequest, runtime: RuntimeDep, principal: PrincipalDep
) -> DeploymentView:
    """No idle stop or terminate for `minutes` from now (a new call replaces the old end);
    the idle clock counts again from then."""
    await _visible(runtime, principal, deployment_id, act=True)
    return await _view(runtime, await runtime.idle.keep_awake(deployment_id, body.minutes))


@router.get("/{deployment_id}/logs", response_model=LogTail)
async def deployment_logs(
    deployment_id: str,
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    lines: Annotated[int, Query(ge=1, le=2000)] = 200,
    follow: Annotated[bool, Query()] = False,
    after: ResumeAfter = None,
    last_event_id: LastEventId = None,
) -> LogTail | EventSourceResponse:
    """The last `lines` lines of the pod log; `follow=1` streams them, then new ones, as SSE.

    A client that has seen lines resumes with `after=<line id>` (or, following, the
    `Last-Event-ID` header its EventSource sends): it gets the lines after that one (the
    first `lines` of them without `follow`), so a reconnect neither repeats nor skips any.
    """
    await _visible(runtime, principal, deployment_id)
    if last_event_id is not None:
        after = last_event_id
    if after is not None:
        if follow:
            await runtime.deployments.get(deployment_id)  # 404 before the stream starts
            return EventSourceResponse(_follow(runtime, deployment_id, after, request), ping=15)
        tail = await runtime.deployments.log_lines_after(deployment_id, after, lines)
    else:
        tail = await runtime.deployments.log_tail(deployment_id, lines)
    if not follow:
        return LogTail(
            deployment_id=deployment_id,
            lines=[LogLineView(id=ln.id, ts=ln.ts, source=ln.source, line=ln.line) for ln in tail],
        )
    start = tail[0].id - 1 if tail else await _newest_line(runtime, deployment_id)
    return EventSourceResponse(_follow(runtime, deployment_id, start, request), ping=15)


async def _newest_line(runtime: Runtime, deployment_id: str) -> int:
    async with runtime.sessions() as session:
        newest = await session.scalar(
            select(LogLine.id)
            .where(LogLine.deployment_id == deployment_id)
            .order_by(LogLine.id.desc())
            .limit(1)
        )
    return newest or 0


async def _follow(
    runtime: Runtime, deployment_id: str, after: int, request: Request
) -> AsyncIterator[ServerSentEvent]:
    last = after
    while not await request.is_disconnected():
        async with runtime.sessions() as session:
            fresh = list(
                await session.scalars(
                    select(LogLine)
                    .where(LogLine.deployment_id == deployment_id, LogLine.id > last)
                    .order_by(LogLine.id)
                    .limit(500)
                )
            )
        for line in fresh:
            last = line.id
            payload = {"ts": line.ts.isoformat(), "source": line.source, "line": line.line}
            yield ServerSentEvent(data=json.dumps(payload), id=str(line.id), event="log")
        if not fresh:
            await asyncio.sleep(LOG_POLL_S)
