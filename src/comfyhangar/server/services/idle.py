"""Idle policies and the idle clock as users see them: set a policy, keep a pod awake, show the
clock. The rules are in core/idle.py; the guard that acts is background/idle_guard.py.

A deployment's `idle_policy` is null until a user sets one (at deploy or later): it then
follows the server's default (`HANGAR_IDLE_*`), read afresh on every look. Setting any field
stores the whole policy, the default filling what was left out, checked as one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.errors import Conflict, InvalidInput, NotFound
from comfyhangar.core.idle import (
    IdleMode,
    IdlePolicy,
    IdlePolicyError,
    deadline,
    keep_awake_until,
)
from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import Deployment, utcnow
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.schemas.idle import (
    ActivityView,
    IdlePolicyInput,
    IdlePolicyView,
    IdleView,
)
from comfyhangar.server.settings import Settings

KEEP_AWAKE_EVENT = EventType.IDLE_KEEP_AWAKE
POLICY_EVENT = EventType.IDLE_POLICY_CHANGED


def default_policy(settings: Settings) -> IdlePolicy:
    """The server-wide default (`HANGAR_IDLE_*`)."""
    return IdlePolicy(
        mode=IdleMode(settings.idle_action),
        idle_minutes=settings.idle_minutes,
        warn_minutes=settings.idle_warn_minutes,
        terminate_after_stopped_days=settings.idle_terminate_after_stopped_days,
    ).check()


def policy_json(policy: IdlePolicy) -> dict[str, Any]:
    return {
        "mode": policy.mode.value,
        "idle_minutes": policy.idle_minutes,
        "warn_minutes": policy.warn_minutes,
        "terminate_after_stopped_days": policy.terminate_after_stopped_days,
    }


def effective_policy(stored: Mapping[str, Any] | None, default: IdlePolicy) -> IdlePolicy:
    """The deployment's own policy, else the default. A stored one that no longer passes the
    checks (made under other bounds) gives way to the default rather than to no guard."""
    if not stored:
        return default
    try:
        return IdlePolicy(
            mode=IdleMode(stored["mode"]),
            idle_minutes=float(stored["idle_minutes"]),
            warn_minutes=float(stored["warn_minutes"]),
            terminate_after_stopped_days=(
                None
                if stored.get("terminate_after_stopped_days") is None
                else float(stored["terminate_after_stopped_days"])
            ),
        ).check()
    except (KeyError, TypeError, ValueError):
        return default


def merge_policy(base: IdlePolicy, body: IdlePolicyInput, *, field_prefix: str) -> IdlePolicy:
    """`base` with the fields `body` gives, checked; a 422 naming the field if not."""
    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("mode", body.mode),
            ("idle_minutes", body.idle_minutes),
            ("warn_minutes", body.warn_minutes),
            ("terminate_after_stopped_days", body.terminate_after_stopped_days),
        )
        if value is not None
    }
    if body.never_terminate_when_stopped:
        if body.terminate_after_stopped_days is not None:
            raise InvalidInput.at(
                f"{field_prefix}.never_terminate_when_stopped",
                "give terminate_after_stopped_days or never_terminate_when_stopped, not both",
            )
        changes["terminate_after_stopped_days"] = None
    for name in ("idle_minutes", "warn_minutes", "terminate_after_stopped_days"):
        if isinstance(changes.get(name), int):
            changes[name] = float(changes[name])  # type: ignore[arg-type]
    try:
        return base.with_changes(**changes)
    except IdlePolicyError as exc:
        raise InvalidInput.at(f"{field_prefix}.{exc.field}", exc.message) from None


def idle_view(dep: Deployment, default: IdlePolicy) -> IdleView:
    """The clock as moments: when it warns and acts if nothing happens (no `now` needed)."""
    policy = effective_policy(dep.idle_policy, default)
    watching = policy.mode is not IdleMode.OFF and dep.state == DeploymentState.READY.value
    warn_at = acts_at = None
    action: str | None = None
    if watching and dep.last_activity_at is not None and dep.idle_checked_at is not None:
        since = dep.last_activity_at
        if dep.keep_awake_until is not None and dep.keep_awake_until > since:
            since = dep.keep_awake_until
        due = deadline(since, policy.idle, policy.warn, dep.idle_warned_at)
        warn_at, acts_at, action = due.warn_at, due.acts_at, policy.mode.value
    days = policy.terminate_after_stopped_days
    stopped = dep.state == DeploymentState.STOPPED.value and dep.stopped_since is not None
    if policy.mode is not IdleMode.OFF and stopped and days is not None:
        assert dep.stopped_since is not None  # noqa: S101 - `stopped` says so
        due = deadline(dep.stopped_since, timedelta(days=days), policy.warn, dep.idle_warned_at)
        warn_at, acts_at, action = due.warn_at, due.acts_at, "terminate"
    return IdleView(
        policy=IdlePolicyView(
            **policy_json(policy), source="deployment" if dep.idle_policy else "default"
        ),
        watching=watching,
        last_activity_at=dep.last_activity_at,
        checked_at=dep.idle_checked_at,
        keep_awake_until=dep.keep_awake_until,
        warned_at=dep.idle_warned_at,
        warn_at=warn_at,
        acts_at=acts_at,
        action=action,
        stopped_since=dep.stopped_since if dep.state == DeploymentState.STOPPED.value else None,
        activity=[ActivityView(**_activity(a)) for a in dep.idle_signals or []],
    )


def _activity(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "source": str(stored.get("source", "?")),
        "active": bool(stored.get("active")),
        "reason": str(stored.get("reason", "")),
        "unreadable": bool(stored.get("unreadable")),
    }


class IdleService:
    """Policy changes and keep-awake; each is one transaction with its event."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        default: IdlePolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self.default = default
        self._clock = clock

    async def set_policy(self, deployment_id: str, body: IdlePolicyInput) -> Deployment:
        """Change the fields `body` gives (the rest as they are now); 422 naming a bad one."""
        async with self._sessions() as session, session.begin():
            dep = await self._live(session, deployment_id)
            current = effective_policy(dep.idle_policy, self.default)
            policy = merge_policy(current, body, field_prefix="body")
            await self._update(
                session, dep.id, idle_policy=policy_json(policy), idle_warned_at=None
            )
            await append_event(
                session, POLICY_EVENT, deployment_id=dep.id, data=policy_json(policy)
            )
        return await self._get(deployment_id)

    async def keep_awake(self, deployment_id: str, minutes: int) -> Deployment:
        """No idle action for `minutes` from now (a new call replaces the old end)."""
        now = self._clock()
        try:
            until = keep_awake_until(now, timedelta(minutes=minutes))
        except ValueError as exc:
            raise InvalidInput.at("body.minutes", str(exc)) from None
        async with self._sessions() as session, session.begin():
            dep = await self._live(session, deployment_id)
            await self._update(session, dep.id, keep_awake_until=until, idle_warned_at=None)
            await append_event(
                session,
                KEEP_AWAKE_EVENT,
                deployment_id=dep.id,
                data={"until": until.isoformat(), "minutes": minutes},
            )
        return await self._get(deployment_id)

    async def _live(self, session: AsyncSession, deployment_id: str) -> Deployment:
        dep = await session.get(Deployment, deployment_id)
        if dep is None:
            raise NotFound(f"no deployment {deployment_id!r}")
        if dep.state == DeploymentState.TERMINATED.value:
            raise Conflict(f"deployment {deployment_id} is terminated")
        return dep

    @staticmethod
    async def _update(session: AsyncSession, deployment_id: str, **values: Any) -> None:
        # A new version: a guard that looked before this change cannot act on what it saw.
        await session.execute(
            update(Deployment)
            .where(Deployment.id == deployment_id)
            .values(version=Deployment.version + 1, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )

    async def _get(self, deployment_id: str) -> Deployment:
        async with self._sessions() as session:
            dep = await session.get(Deployment, deployment_id)
        assert dep is not None  # noqa: S101 - it was there a moment ago and is never deleted
        return dep
