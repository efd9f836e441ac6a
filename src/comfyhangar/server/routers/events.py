"""`/events`: the live event stream (Server-Sent Events), resumable by `Last-Event-ID`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sse_starlette import EventSourceResponse, ServerSentEvent

from comfyhangar.core.access import Principal
from comfyhangar.server.auth import PrincipalDep
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.events import HANGAR_EVENT_REF
from comfyhangar.server.schemas.limits import LastEventId, ResumeAfter
from comfyhangar.server.services.event_hub import EventHub, SubscriberTooSlowError

router = APIRouter(tags=["events"])
KEEPALIVE_S = 15


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `event:` is an `EventType`, `id:` the event id, "
            "`data:` one `HangarEvent` as JSON",
            "content": {"text/event-stream": {"schema": {"$ref": HANGAR_EVENT_REF}}},
        }
    },
)
async def stream_events(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    last_event_id: LastEventId = None,
    after: ResumeAfter = None,
    deployment_id: Annotated[str | None, Query(max_length=32)] = None,
) -> EventSourceResponse:
    """Every event after `Last-Event-ID` (or `after`), then live ones. Without either, only new
    events. Each has an `id`; `event` is its type; `data` is JSON. Comments keep the line alive.
    A member sees the events of their own deployments (and those of no deployment)."""
    if last_event_id is not None:
        start = last_event_id
    elif after is not None:
        start = after
    else:
        start = runtime.events.last_id
    return EventSourceResponse(
        _stream(runtime.events, start, deployment_id, _visibility(runtime, principal)),
        ping=KEEPALIVE_S,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


Visible = Callable[[str | None], Awaitable[bool]] | None


def _visibility(runtime: Runtime, principal: Principal) -> Visible:
    """None when the principal sees every event; else a check per deployment id (cached)."""
    if principal.sees_everything:
        return None
    known: dict[str, bool] = {}

    async def visible(deployment_id: str | None) -> bool:
        if deployment_id is None:
            return True
        if deployment_id not in known:
            async with runtime.sessions() as session:
                owner = await session.scalar(
                    select(Deployment.owner_id).where(Deployment.id == deployment_id)
                )
            known[deployment_id] = owner == principal.user_id
        return known[deployment_id]

    return visible


async def _stream(
    hub: EventHub, start: int, deployment_id: str | None, visible: Visible = None
) -> AsyncIterator[ServerSentEvent]:
    accept = None if deployment_id is None else (lambda e: e.deployment_id == deployment_id)
    try:
        async for event in hub.subscribe(start, accept=accept):
            if visible is not None and not await visible(event.deployment_id):
                continue
            yield ServerSentEvent(
                data=json.dumps(event.payload(), separators=(",", ":")),
                id=str(event.id),
                event=event.type,
            )
    except SubscriberTooSlowError:
        return  # the client reconnects with its Last-Event-ID and catches up
