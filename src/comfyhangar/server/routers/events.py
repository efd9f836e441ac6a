"""`/events`: the live event stream (Server-Sent Events), resumable by `Last-Event-ID`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from comfyhangar.server.deps import RuntimeDep
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
    last_event_id: LastEventId = None,
    after: ResumeAfter = None,
    deployment_id: Annotated[str | None, Query(max_length=32)] = None,
) -> EventSourceResponse:
    """Every event after `Last-Event-ID` (or `after`), then live ones. Without either, only new
    events. Each has an `id`; `event` is its type; `data` is JSON. Comments keep the line alive."""
    if last_event_id is not None:
        start = last_event_id
    elif after is not None:
        start = after
    else:
        start = runtime.events.last_id
    return EventSourceResponse(
        _stream(runtime.events, start, deployment_id),
        ping=KEEPALIVE_S,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    hub: EventHub, start: int, deployment_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    accept = None if deployment_id is None else (lambda e: e.deployment_id == deployment_id)
    try:
        async for event in hub.subscribe(start, accept=accept):
            yield ServerSentEvent(
                data=json.dumps(event.payload(), separators=(",", ":")),
                id=str(event.id),
                event=event.type,
            )
    except SubscriberTooSlowError:
        return  # the client reconnects with its Last-Event-ID and catches up
