"""The append-only event log.

Every event gets an id greater than any id committed before it, so a reader that has seen id N
and asks for `id > N` gets exactly what it missed. Sequences alone do not promise that on
PostgreSQL (a transaction may take id 7, another id 8 and commit first); `append_event` takes a
transaction-scoped advisory lock before inserting, so ids are handed out in commit order. On
SQLite, the single writer lock held from the insert to the commit gives the same guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from comfyhangar.server.db.engine import EVENTS_APPENDED
from comfyhangar.server.db.models import Event
from comfyhangar.server.schemas.events import EventData, EventType, event_data

# Any fixed 64-bit number, the same in every process ("hangarev" in ASCII).
PG_EVENT_LOCK_KEY = 0x68616E6761726576 - (1 << 63)
# PostgreSQL delivers a notification on this channel when a transaction with events commits.
NOTIFY_CHANNEL = "hangar_events"


async def append_event(
    session: AsyncSession,
    type: EventType,
    *,
    deployment_id: str | None = None,
    pod_id: str | None = None,
    data: dict[str, Any] | EventData | None = None,
) -> Event:
    """Add an event to the session's transaction; it becomes visible when that commits.

    `type` is one of the vocabulary (`schemas/events.py`) and `data` must have its payload's
    shape: a wrong one raises before anything is written. Call it in the same transaction as
    the change it reports, so that both or neither land. Keep such transactions short: on
    PostgreSQL they serialise with every other event writer.
    """
    body = event_data(type, data)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_EVENT_LOCK_KEY}
        )
        # Delivered at commit (and dropped on rollback); many in one transaction fold into one.
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    event = Event(type=str(type), deployment_id=deployment_id, pod_id=pod_id, data=body)
    session.add(event)
    await session.flush()
    session.info[EVENTS_APPENDED] = True
    return event


STATE_EVENT = EventType.DEPLOYMENT_STATE


def state_event_data(
    state: str,
    previous: str | None,
    reason: str | None = None,
    cost: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of a `deployment_state` event: one shape wherever a state changes. `cost` is
    the deployment's cost in the new state (its view's `cost`: the rate changes with it)."""
    return {"state": state, "previous": previous, "reason": reason, "cost": cost}


async def append_state_event(
    session: AsyncSession,
    deployment_id: str,
    state: str,
    previous: str | None,
    *,
    pod_id: str | None = None,
    reason: str | None = None,
    cost: dict[str, Any] | None = None,
) -> Event:
    """Record a deployment's state change (same transaction as the change itself)."""
    return await append_event(
        session,
        STATE_EVENT,
        deployment_id=deployment_id,
        pod_id=pod_id,
        data=state_event_data(state, previous, reason, cost),
    )


async def events_after(
    session: AsyncSession,
    after_id: int,
    *,
    limit: int = 500,
    deployment_id: str | None = None,
) -> Sequence[Event]:
    """Committed events with an id above `after_id`, oldest first, at most `limit`."""
    query = select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    if deployment_id is not None:
        query = query.where(Event.deployment_id == deployment_id)
    return (await session.scalars(query)).all()


async def last_event_id(session: AsyncSession) -> int:
    """The id of the newest committed event, 0 when there is none."""
    newest = await session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    return newest or 0
