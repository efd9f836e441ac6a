"""API tokens: made, listed, revoked, and turned into the principal a request acts as.

A token is shown once, when it is made; the database keeps its SHA-256 only. Its scopes are
capped by its user's role at every use, so a member demoted to viewer keeps no write access
through an old token. `last_used_at` is written at most once a minute per token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.access import (
    ROLE_SCOPES,
    Principal,
    Role,
    Scope,
    new_api_token,
    plausible_token,
    secret_hash,
    token_hint,
)
from comfyhangar.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from comfyhangar.server.db.models import ApiToken, User

LAST_USED_GRANULARITY = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 100
INVALID_TOKEN_MESSAGE = (
    "this API token is not valid: it is unknown, revoked, expired or its user is disabled; "  # noqa: S105
    "make a new one (dashboard: Tokens, or `comfyhangar tokens create`)"
)


def scope_set(scopes: Iterable[str]) -> frozenset[Scope]:
    """Stored scope names as scopes (unknown names are ignored)."""
    known = {s.value for s in Scope}
    return frozenset(Scope(s) for s in scopes if s in known)


class TokenService:
    """Every API token operation; the caller has authenticated the principal."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(
        self,
        session: AsyncSession,
        user: User,
        name: str,
        scopes: Iterable[Scope],
        *,
        token: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """Store a token for `user` inside the caller's transaction; return (row, token)."""
        secret = token or new_api_token()
        row = ApiToken(
            id=uuid.uuid4().hex,
            user_id=user.id,
            name=name,
            token_hash=secret_hash(secret),
            hint=token_hint(secret),
            scopes=sorted(s.value for s in scopes),
            expires_at=expires_at,
        )
        session.add(row)
        return row, secret

    async def create(
        self,
        principal: Principal,
        name: str,
        scopes: Sequence[Scope],
        expires_in_days: float | None,
    ) -> tuple[ApiToken, str]:
        """A new token of the principal's own user, with at most the principal's scopes."""
        if principal.via == "token" and principal.scopes <= {Scope.READ}:
            raise Forbidden("a read-only API token cannot make tokens")
        beyond = sorted(s.value for s in set(scopes) - principal.scopes)
        if beyond:
            raise InvalidInput.at(
                "scopes", f"you cannot give scopes you do not have: {', '.join(beyond)}"
            )
        expires_at = (
            datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
        )
        async with self._sessions() as session, session.begin():
            count = len(
                (
                    await session.scalars(
                        select(ApiToken.id).where(
                            ApiToken.user_id == principal.user_id, ApiToken.revoked_at.is_(None)
                        )
                    )
                ).all()
            )
            if count >= MAX_TOKENS_PER_USER:
                raise InvalidInput.at(
                    "name", f"you have {count} tokens, the most there may be: revoke some first"
                )
            user = await session.get(User, principal.user_id)
            if user is None:
                raise Unauthenticated("your account no longer exists")
            return await self.add(session, user, name, scopes, expires_at=expires_at)

    async def list_for(self, principal: Principal, *, everyone: bool) -> Sequence[ApiToken]:
        """The principal's tokens (an admin may ask for everyone's), newest first."""
        query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id)
        if not (everyone and principal.role is Role.ADMIN):
            query = query.where(ApiToken.user_id == principal.user_id)
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

    async def revoke(self, principal: Principal, token_id: str) -> ApiToken:
        """Revoke a token of the principal (an admin: anyone's). Idempotent."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ApiToken, token_id)
            if row is None or not (
                row.user_id == principal.user_id or principal.role is Role.ADMIN
            ):
                raise NotFound(f"no API token {token_id!r}")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            return row

    async def principal(self, token: str) -> Principal:
        """Who `token` acts as; Unauthenticated (401) for anything but a live token."""
        if not plausible_token(token):
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        now = datetime.now(UTC)
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(ApiToken, User)
                    .join(User, User.id == ApiToken.user_id)
                    .where(ApiToken.token_hash == secret_hash(token))
                )
            ).first()
        if found is None:
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        row, user = found
        live = row.revoked_at is None and (row.expires_at is None or row.expires_at > now)
        if not live or user.disabled:
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
                )
        role = Role(user.role)
        return Principal(
            user_id=user.id,
            name=user.name,
            role=role,
            scopes=scope_set(row.scopes) & ROLE_SCOPES[role],
            via="token",
            token_id=row.id,
        )
