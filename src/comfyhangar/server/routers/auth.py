"""`/auth`: sign in and out of the dashboard, who am I, my password, login and invite links.

`POST /auth/session` and `POST /auth/invites/accept` need no credentials (they are how one
gets some); everything else here does.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response, status

from comfyhangar.core.errors import InvalidInput
from comfyhangar.server.audit import SUBJECT_KEY
from comfyhangar.server.auth import SESSION_COOKIE, PrincipalDep, check_same_origin, own_credentials
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.accounts import (
    InviteAccept,
    LinkView,
    Me,
    PasswordChange,
    SignInRequest,
)
from comfyhangar.server.services.accounts import LOGIN_LINK_TTL, SignIn, csrf_token

router = APIRouter(prefix="/auth", tags=["auth"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login_url(request: Request, public_url: str | None, fragment: str) -> str:
    """`<this server>/login#<fragment>`: the fragment never reaches a server or a Referer."""
    base = public_url or str(request.base_url).rstrip("/")
    return f"{base}/login#{fragment}"


def _set_cookie(response: Response, request: Request, sign_in: SignIn, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign_in.secret,
        max_age=int((sign_in.expires_at - datetime.now(sign_in.expires_at.tzinfo)).total_seconds()),
        path="/",
        httponly=True,
        secure=secure or request.url.scheme == "https",
        samesite="lax",
    )


def _me(sign_in: SignIn) -> Me:
    p = sign_in.principal
    return Me(
        id=p.user_id,
        name=p.name,
        role=p.role,
        scopes=sorted(p.scopes),
        via="session",
        csrf_token=csrf_token(sign_in.secret),
    )


@router.post("/session", response_model=Me)
async def sign_in(
    body: SignInRequest, request: Request, response: Response, runtime: RuntimeDep
) -> Me:
    """Sign a browser in (sets the session cookie): with a name and password, an API token,
    or a one-time login link. Rate-limited per account and per address."""
    check_same_origin(request)
    if body.name is not None:
        setattr(request.state, SUBJECT_KEY, body.name)
    accounts = runtime.accounts
    address = client_address(request)
    if body.token is not None:
        made = await accounts.sign_in_token(body.token.get_secret_value(), address)
    elif body.link is not None:
        made = await accounts.sign_in_link(body.link.get_secret_value(), address)
    elif body.name is not None and body.password is not None:
        made = await accounts.sign_in_password(body.name, body.password.get_secret_value(), address)
    else:  # pragma: no cover - SignInRequest allows no other shape
        raise InvalidInput("send name and password, or token, or link")
    _set_cookie(response, request, made, runtime.settings.behind_tls)
    response.headers["Cache-Control"] = "no-store"
    return _me(made)


@router.delete(
    "/session", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(own_credentials)]
)
async def sign_out(request: Request, principal: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Sign this browser out (the session ends on the server too)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret and principal.via == "session":
        await runtime.accounts.sign_out(secret)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
async def who_am_i(request: Request, principal: PrincipalDep, response: Response) -> Me:
    """The signed-in user, its scopes, and (for a browser) the CSRF token for writes."""
    secret = request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None
    response.headers["Cache-Control"] = "no-store"
    return Me(
        id=principal.user_id,
        name=principal.name,
        role=principal.role,
        scopes=sorted(principal.scopes),
        via="session" if principal.via == "session" else "token",
        csrf_token=csrf_token(secret) if secret else None,
    )


@router.put(
    "/password", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(own_credentials)]
)
async def change_password(
    body: PasswordChange, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """Set or change one's own password (the current one is needed once there is one)."""
    current = body.current.get_secret_value() if body.current else None
    await runtime.accounts.set_password(principal, current, body.new.get_secret_value())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/login-links",
    status_code=status.HTTP_201_CREATED,
    response_model=LinkView,
    dependencies=[Depends(own_credentials)],
)
async def make_login_link(
    request: Request, principal: PrincipalDep, runtime: RuntimeDep, response: Response
) -> LinkView:
    """A one-time link that signs a browser in as oneself (`comfyhangar login-link`)."""
    secret = await runtime.accounts.login_link(principal)
    response.headers["Cache-Control"] = "no-store"
    return LinkView(
        url=login_url(request, runtime.settings.public_url, f"link={secret}"),
        expires_at=datetime.now().astimezone() + LOGIN_LINK_TTL,
    )


@router.post("/invites/accept", response_model=Me)
async def accept_invite(
    body: InviteAccept, request: Request, response: Response, runtime: RuntimeDep
) -> Me:
    """Become the invited user, with a name and password of one's choosing; signs in."""
    check_same_origin(request)
    made = await runtime.accounts.accept_invite(
        body.invite.get_secret_value(),
        body.name,
        body.password.get_secret_value(),
        client_address(request),
    )
    _set_cookie(response, request, made, runtime.settings.behind_tls)
    return _me(made)
