"""Who may do what: roles, API token scopes, the API token format, and the signed-in principal.

Roles: `admin` (users, settings, budgets, every deployment), `member` (deploys and runs, acts on
its own deployments), `viewer` (reads only). A request's scopes are what its credential allows
within its user's role: a browser session has every scope of the role; an API token has the
scopes it was made with, minus those its user's role has lost since.

API tokens look like `hgr_` + 32 random base62 characters + a 6-character base62 CRC32 of
them, so secret scanners can recognise a leaked one and a typo is refused without a database
look-up. Only their SHA-256 is stored. `HANGAR_ADMIN_TOKEN` may be any string of 32 or more
characters (automation picks its own); it is stored the same way.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from dataclasses import dataclass
from enum import StrEnum

from comfyhangar.core.errors import Forbidden

TOKEN_PREFIX = "hgr_"  # noqa: S105 - the prefix, not a token
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY_CHARS = 32
_CHECK_CHARS = 6
TOKEN_CHARS = len(TOKEN_PREFIX) + _BODY_CHARS + _CHECK_CHARS
# The shortest HANGAR_ADMIN_TOKEN accepted (a token that automation chose itself).
MIN_CHOSEN_TOKEN_CHARS = 32


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Scope(StrEnum):
    READ = "read"
    DEPLOY = "deploy"
    RUN = "run"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.MEMBER: frozenset({Scope.READ, Scope.DEPLOY, Scope.RUN}),
    Role.VIEWER: frozenset({Scope.READ}),
}


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK_CHARS)


def new_api_token() -> str:
    """A fresh API token: `hgr_`, 32 random base62 characters (190 bits), their checksum."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_CHARS))
    return TOKEN_PREFIX + body + _checksum(body)


def well_formed(token: str) -> bool:
    """True for an `hgr_` token whose checksum matches (says nothing about whether it exists)."""
    if len(token) != TOKEN_CHARS or not token.startswith(TOKEN_PREFIX):
        return False
    body, check = token[len(TOKEN_PREFIX) : -_CHECK_CHARS], token[-_CHECK_CHARS:]
    return all(c in _ALPHABET for c in body) and secrets.compare_digest(check, _checksum(body))


def plausible_token(token: str) -> bool:
    """Worth a look-up: a well-formed `hgr_` token, or a chosen token (32+ printable ASCII)."""
    if token.startswith(TOKEN_PREFIX):
        return well_formed(token)
    return len(token) >= MIN_CHOSEN_TOKEN_CHARS and token.isascii() and token.isprintable()


def token_hint(token: str) -> str:
    """What lists show of a token: its first characters (`hgr_AbC4…`), never enough to use."""
    return token[: len(TOKEN_PREFIX) + 4] + "…"


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) stored for a token, session or link: high-entropy secrets need no salt."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, and with which scopes."""

    user_id: str
    name: str
    role: Role
    scopes: frozenset[Scope]
    # "session" (a browser cookie) or "token" (an API token).
    via: str
    token_id: str | None = None

    def require(self, scope: Scope) -> None:
        """Forbidden (403) unless this request has `scope`."""
        if scope not in self.scopes:
            how = "this API token lacks" if self.via == "token" else f"the role {self.role} lacks"
            raise Forbidden(f"{how} the scope {scope.value!r} that this needs")

    @property
    def sees_everything(self) -> bool:
        """Admins and viewers see every deployment; members see their own."""
        return self.role in (Role.ADMIN, Role.VIEWER)

    def may_see(self, owner_id: str | None) -> bool:
        return self.sees_everything or owner_id == self.user_id

    def may_act_on(self, owner_id: str | None) -> bool:
        """Change a deployment owned by `owner_id` (scopes are checked separately)."""
        return self.role is Role.ADMIN or (self.role is Role.MEMBER and owner_id == self.user_id)
