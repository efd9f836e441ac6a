"""The audit log: every change asked of the API and every refusal, with who, when, from where.

ASGI middleware around the API: once a response has started, a request with an unsafe method
(anything but GET, HEAD, OPTIONS), or any request answered 401, 403 or 429, becomes an
`audit_log` row: the principal the request authenticated as (if any), the client address, the
method and path (never the query string or a body: they may carry secrets), the status and the
outcome (`ok`, `refused`, `failed`). A failed sign-in records the account name it was for. The
row is written in a transaction of its own after the response: an audit write that fails is
logged and never fails the request.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comfyhangar.server.db.models import AuditEntry

log = logging.getLogger(__name__)

AUDITED_PREFIX = "/api/v1/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSALS = frozenset({401, 403, 429})
SUBJECT_KEY = "audit_subject"  # request.state: the account name a sign-in was for


def outcome_of(status: int) -> str:
    if status in REFUSALS:
        return "refused"
    return "ok" if status < 400 else "failed"


class AuditTrail:
    """ASGI middleware that records audited requests (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(AUDITED_PREFIX):
            await self.app(scope, receive, send)
            return
        status: int | None = None

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if status is not None and (scope["method"] not in SAFE_METHODS or status in REFUSALS):
                await self._record(scope, status)

    async def _record(self, scope: Scope, status: int) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        client = scope.get("client")
        entry = AuditEntry(
            actor_id=getattr(principal, "user_id", None),
            actor_name=getattr(principal, "name", None),
            via=getattr(principal, "via", None),
            address=str(client[0])[:64] if client else None,
            method=str(scope["method"])[:8],
            path=str(scope["path"])[:512],
            status=status,
            outcome=outcome_of(status),
            subject=(str(state[SUBJECT_KEY])[:64] if state.get(SUBJECT_KEY) else None),
        )
        app = scope.get("app")
        runtime = getattr(getattr(app, "state", None), "runtime", None)
        if runtime is None:
            return
        try:
            async with runtime.sessions() as session, session.begin():
                session.add(entry)
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "could not write the audit entry of %s %s: %s",
                entry.method,
                entry.path,
                type(exc).__name__,
            )
