"""Users, their sign-ins and the first start.

The first start (no user yet) creates the `admin` account with an API token (the value of
`HANGAR_ADMIN_TOKEN`, or a fresh one) written to the admin token file in the data directory
(mode 0600), and a one-time login link that `serve` prints. Deployments without an owner (made
before accounts existed) become the admin's.

Browser sign-ins make a session: a random secret in an HttpOnly cookie, its SHA-256 in the
database. A session can be made from a name and password (argon2, rate-limited), from an API
token (`/login#token=...`) or from a one-time link (login or invite), each used once.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.access import ROLE_SCOPES, Principal, Role, Scope, secret_hash
from comfyhangar.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from comfyhangar.server.db.models import ApiToken, BrowserSession, Deployment, LoginLink, User
from comfyhangar.server.services.api_tokens import TokenService
from comfyhangar.server.services.login_limits import LoginLimits
from comfyhangar.server.services.owner_files import read_if_exists, write_owner_only
from comfyhangar.server.settings import Settings

log = logging.getLogger(__name__)

ADMIN_NAME = "admin"
LOGIN_LINK_TTL = timedelta(hours=24)
INVITE_TTL = timedelta(days=7)
MIN_PASSWORD_CHARS = 10
LOGIN = "login"
INVITE = "invite"
BAD_SIGN_IN = "wrong name or password"  # the same words whichever of the two was wrong
BAD_LINK = "this link is not valid: it was used already, has expired, or was never made"
_hasher = PasswordHash.recommended()
# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a browser session, derived from its secret (nothing to store)."""
    return hmac.new(session_secret.encode(), b"comfyhangar-csrf", "sha256").hexdigest()


@dataclass(frozen=True)
class SignIn:
    """A new browser session: the cookie's secret, and who it is."""

    secret: str
    principal: Principal
    expires_at: datetime


def principal_of(user: User, via: str) -> Principal:
    role = Role(user.role)
    return Principal(user.id, user.name, role, ROLE_SCOPES[role], via)


class AccountService:
    """Users, sessions, one-time links and the first start."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        tokens: TokenService,
        limits: LoginLimits | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self.tokens = tokens
        self.limits = limits or LoginLimits()

    # first start

    async def bootstrap(self) -> str | None:
        """Create the admin on the first start; return its one-time login link secret (None
        when the admin existed already). Ownerless deployments become the first admin's."""
        link: str | None = None
        async with self._sessions() as session:
            exists = await session.scalar(select(func.count()).select_from(User))
        if not exists:
            link = await self._create_admin()
        async with self._sessions() as session, session.begin():
            admin = await session.scalar(
                select(User.id).where(User.role == Role.ADMIN.value).order_by(User.created_at)
            )
            if admin is not None:
                await session.execute(
                    update(Deployment).where(Deployment.owner_id.is_(None)).values(owner_id=admin)
                )
        return link

    async def _create_admin(self) -> str | None:
        path = self._settings.admin_token_file
        chosen = self._settings.admin_token
        token = chosen.get_secret_value() if chosen else None
        link = secrets.token_urlsafe(32)
        try:
            async with self._sessions() as session, session.begin():
                admin = User(id=uuid.uuid4().hex, name=ADMIN_NAME, role=Role.ADMIN.value)
                session.add(admin)
                await session.flush()  # a second process starting at once fails here
                _, token = await self.tokens.add(
                    session, admin, "admin token file", frozenset(Scope), token=token
                )
                session.add(
                    LoginLink(
                        token_hash=secret_hash(link),
                        purpose=LOGIN,
                        user_id=admin.id,
                        expires_at=datetime.now(UTC) + LOGIN_LINK_TTL,
                    )
                )
                # Written before the commit: a crash between the two leaves no user, and the
                # next start begins again; a token that was committed is always in the file.
                write_owner_only(path, token + "\n")
        except IntegrityError:
            log.info("another server process created the admin account first")
            return None
        log.info("created the admin account; its API token is in %s", path)
        return link

    def admin_token_from_file(self) -> str | None:
        return read_if_exists(self._settings.admin_token_file)

    # browser sessions

    async def _new_session(self, session: AsyncSession, user: User) -> SignIn:
        secret = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(days=self._settings.session_days)
        session.add(
            BrowserSession(id_hash=secret_hash(secret), user_id=user.id, expires_at=expires)
        )
        return SignIn(secret, principal_of(user, "session"), expires)

    async def sign_in_password(self, name: str, password: str, address: str) -> SignIn:
        """A session for a name and password; 401 when wrong, 429 after too many failures."""
        self.limits.check(name, address)
        async with self._sessions() as session, session.begin():
            user = await session.scalar(select(User).where(User.name == name))
            stored = user.password_hash if user is not None else None
            ok = _hasher.verify(password, stored or _DUMMY_HASH) and stored is not None
            if user is None or not ok or user.disabled:
                self.limits.failed(name, address)
                raise Unauthenticated(BAD_SIGN_IN)
            self.limits.succeeded(name)
            return await self._new_session(session, user)

    async def sign_in_token(self, token: str, address: str) -> SignIn:
        """A session for the user of an API token (`/login#token=...`). A session has every
        scope of the role, so only a token with all of them may make one."""
        self.limits.check("token", address)
        try:
            principal = await self.tokens.principal(token)
        except Unauthenticated:
            self.limits.failed("token", address)
            raise
        if principal.scopes != ROLE_SCOPES[principal.role]:
            raise Forbidden(
                "this token has fewer scopes than its user's role, so it cannot sign a browser "
                "in; use a token with every scope of the role, or a password"
            )
        async with self._sessions() as session, session.begin():
            user = await session.get(User, principal.user_id)
            if user is None:
                raise Unauthenticated("this token's account no longer exists")
            return await self._new_session(session, user)

    async def sign_in_link(self, link: str, address: str) -> SignIn:
        """A session from a one-time login link; the link is spent."""
        self.limits.check("link", address)
        async with self._sessions() as session, session.begin():
            row = await self._take_link(session, link, LOGIN)
            user = await session.get(User, row.user_id) if row is not None and row.user_id else None
            if user is None or user.disabled:
                self.limits.failed("link", address)
                raise Unauthenticated(BAD_LINK)
            return await self._new_session(session, user)

    async def _take_link(self, session: AsyncSession, link: str, purpose: str) -> LoginLink | None:
        """The unused, unexpired link of this purpose, marked used in this transaction."""
        now = datetime.now(UTC)
        spent = await session.execute(
            update(LoginLink)
            .where(
                LoginLink.token_hash == secret_hash(link),
                LoginLink.purpose == purpose,
                LoginLink.used_at.is_(None),
                LoginLink.expires_at > now,
            )
            .values(used_at=now)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await session.get(LoginLink, secret_hash(link))

    async def session_principal(self, secret: str) -> Principal:
        """Who a session cookie signs in as; 401 when it is unknown, expired or disabled."""
        now = datetime.now(UTC)
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(BrowserSession, User)
                    .join(User, User.id == BrowserSession.user_id)
                    .where(BrowserSession.id_hash == secret_hash(secret))
                )
            ).first()
        if found is None or found[0].expires_at <= now or found[1].disabled:
            raise Unauthenticated("your sign-in has expired or ended: sign in again")
        return principal_of(found[1], "session")

    async def sign_out(self, secret: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(BrowserSession).where(BrowserSession.id_hash == secret_hash(secret))
            )

    async def login_link(self, principal: Principal) -> str:
        """A fresh one-time login link secret for the principal's own user."""
        if principal.via == "token" and Scope.ADMIN not in principal.scopes:
            raise Forbidden("making a login link needs a browser sign-in or an admin token")
        secret = secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            session.add(
                LoginLink(
                    token_hash=secret_hash(secret),
                    purpose=LOGIN,
                    user_id=principal.user_id,
                    created_by=principal.user_id,
                    expires_at=datetime.now(UTC) + LOGIN_LINK_TTL,
                )
            )
        return secret

    # users

    async def users(self) -> Sequence[User]:
        async with self._sessions() as session:
            return (await session.scalars(select(User).order_by(User.created_at, User.id))).all()

    async def user(self, user_id: str) -> User:
        async with self._sessions() as session:
            user = await session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    async def invite(self, principal: Principal, role: Role) -> tuple[str, datetime]:
        """A one-time invite link secret that makes a user of `role`, and when it expires."""
        secret = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + INVITE_TTL
        async with self._sessions() as session, session.begin():
            session.add(
                LoginLink(
                    token_hash=secret_hash(secret),
                    purpose=INVITE,
                    role=role.value,
                    created_by=principal.user_id,
                    expires_at=expires,
                )
            )
        return secret, expires

    async def accept_invite(self, invite: str, name: str, password: str, address: str) -> SignIn:
        """Make the invited user (name and password of their choosing) and sign them in."""
        check_password(password)
        self.limits.check("invite", address)
        try:
            async with self._sessions() as session, session.begin():
                row = await self._take_link(session, invite, INVITE)
                if row is None or row.role is None:
                    self.limits.failed("invite", address)
                    raise Unauthenticated(BAD_LINK)
                user = User(
                    id=uuid.uuid4().hex,
                    name=name,
                    role=row.role,
                    password_hash=_hasher.hash(password),
                )
                session.add(user)
                await session.flush()
                return await self._new_session(session, user)
        except IntegrityError:
            raise InvalidInput.at("name", f"the name {name!r} is taken: pick another") from None

    async def set_password(self, principal: Principal, current: str | None, new: str) -> None:
        """Change one's own password (the current one is needed once there is one)."""
        check_password(new)
        async with self._sessions() as session, session.begin():
            user = await session.get(User, principal.user_id)
            if user is None:
                raise Unauthenticated("your account no longer exists")
            if user.password_hash is not None and not (
                current and _hasher.verify(current, user.password_hash)
            ):
                raise Forbidden("the current password is wrong; nothing was changed")
            user.password_hash = _hasher.hash(new)

    async def update_user(
        self, principal: Principal, user_id: str, *, role: Role | None, disabled: bool | None
    ) -> User:
        """Change a user's role or disable them; the last enabled admin stays one."""
        async with self._sessions() as session, session.begin():
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            demoting = (role is not None and role is not Role.ADMIN) or disabled is True
            if user.role == Role.ADMIN.value and demoting:
                await _keep_an_admin(session, user.id)
            if role is not None:
                user.role = role.value
            if disabled is not None:
                user.disabled = disabled
                if disabled:
                    await session.execute(
                        delete(BrowserSession).where(BrowserSession.user_id == user.id)
                    )
            return user

    async def delete_user(self, principal: Principal, user_id: str) -> None:
        """Delete a user, their tokens and sessions; their deployments become the deleting
        admin's (a pod is never left without someone who can stop it)."""
        if user_id == principal.user_id:
            raise Conflict("you cannot delete your own account; another admin can")
        async with self._sessions() as session, session.begin():
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            if user.role == Role.ADMIN.value:
                await _keep_an_admin(session, user.id)
            await session.execute(
                update(Deployment)
                .where(Deployment.owner_id == user.id)
                .values(owner_id=principal.user_id)
            )
            for table in (ApiToken, BrowserSession):
                await session.execute(delete(table).where(table.user_id == user.id))
            await session.execute(delete(LoginLink).where(LoginLink.user_id == user.id))
            await session.delete(user)


async def _keep_an_admin(session: AsyncSession, leaving: str) -> None:
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.id != leaving, User.disabled.is_(False))
    )
    if not others:
        raise Conflict("this is the last enabled admin: make another admin first")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput.at("password", f"must be at least {MIN_PASSWORD_CHARS} characters long")
