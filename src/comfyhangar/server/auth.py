"""Authentication and authorisation of every API request (FastAPI dependencies).

A request authenticates with `Authorization: Bearer <API token>` or with the dashboard's
session cookie. A cookie-authenticated request with an unsafe method (anything but GET, HEAD,
OPTIONS) must also carry `X-CSRF-Token` (from `GET /auth/me`) and, when the browser sends
`Origin`, come from this server's own origin: a page on another site can make the browser send
the cookie (SameSite=Lax allows top-level form posts) but can neither read the CSRF token nor
set the header without a CORS preflight, which this server never grants.

Each router is included with `Depends(access(write_scope))`: safe methods need `read`, unsafe
ones `write_scope`. Handlers that need to know who asks take `PrincipalDep` (resolved once per
request).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from comfyhangar.core.access import Principal, Scope
from comfyhangar.core.errors import Forbidden, Unauthenticated
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.services.accounts import csrf_token

SESSION_COOKIE = "hangar_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_CREDENTIALS = (
    "sign in first: send `Authorization: Bearer <API token>` (the admin's is in the data "
    "directory's admin-token file; `comfyhangar tokens create` makes more), or sign in to "
    "the dashboard"
)


def bearer(request: Request) -> str | None:
    """The bearer token of the request; 401 for an Authorization header of another kind."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the Authorization header must be `Bearer <API token>`")
    return value.strip()


def check_same_origin(request: Request) -> None:
    """403 when the browser says the request comes from a page of another origin: one whose
    host is not the request's Host, nor the origin of `HANGAR_PUBLIC_URL` (a proxy in front
    may rewrite Host)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "").lower()
    public_url = request.app.state.runtime.settings.public_url
    public = urlsplit(public_url).netloc.lower() if public_url else None
    netloc = urlsplit(origin).netloc.lower()
    if origin == "null" or netloc not in (host, public):
        raise Forbidden("cross-origin requests are refused")


def check_csrf(request: Request, session_secret: str) -> None:
    """403 unless an unsafe cookie-authenticated request carries its CSRF token."""
    check_same_origin(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token(session_secret).encode()):
        raise Forbidden(
            f"missing or wrong {CSRF_HEADER} header (the dashboard sends it; API clients use "
            "a bearer token instead of the cookie)"
        )


# Only documents the scheme in OpenAPI (Swagger UI's "Authorize"); `bearer` reads the header.
_documented_bearer = HTTPBearer(auto_error=False, description="An API token (`hgr_...`)")


async def authenticate(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_documented_bearer)],
) -> Principal:
    """Who the request acts as; 401 without valid credentials."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    runtime: Runtime = request.app.state.runtime
    token = bearer(request)
    if token is not None:
        principal = await runtime.accounts.tokens.principal(token)
    else:
        secret = request.cookies.get(SESSION_COOKIE)
        if not secret:
            raise Unauthenticated(NO_CREDENTIALS)
        principal = await runtime.accounts.session_principal(secret)
        if request.method not in SAFE_METHODS:
            check_csrf(request, secret)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def access(
    write: Scope, read: Scope = Scope.READ
) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A router dependency: `read` for safe methods, `write` for the others."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        principal.require(read if request.method in SAFE_METHODS else write)
        return principal

    return check


async def own_credentials(request: Request, principal: PrincipalDep) -> Principal:
    """For one's own sign-in, password and tokens: any signed-in browser may change them; an
    API token may only if it is not read-only (a leaked read token mints nothing)."""
    unsafe = request.method not in SAFE_METHODS
    if unsafe and principal.via == "token" and principal.scopes <= {Scope.READ}:
        raise Forbidden("a read-only API token cannot change credentials")
    return principal
