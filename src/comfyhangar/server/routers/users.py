"""`/users`: admins list, invite, change, disable and delete users."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from comfyhangar.core.access import Role
from comfyhangar.server.auth import PrincipalDep
from comfyhangar.server.db.models import User
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.routers.auth import login_url
from comfyhangar.server.schemas.accounts import (
    InviteCreate,
    LinkView,
    UserList,
    UserUpdate,
    UserView,
)

router = APIRouter(prefix="/users", tags=["users"])


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        name=user.name,
        role=Role(user.role),
        disabled=user.disabled,
        has_password=user.password_hash is not None,
        created_at=user.created_at,
    )


@router.get("", response_model=UserList)
async def list_users(runtime: RuntimeDep) -> UserList:
    """Every user, oldest first."""
    return UserList(users=[user_view(u) for u in await runtime.accounts.users()])


@router.post("/invites", status_code=status.HTTP_201_CREATED, response_model=LinkView)
async def invite_user(
    body: InviteCreate,
    request: Request,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    response: Response,
) -> LinkView:
    """A one-time invite link (valid 7 days): who opens it picks a name and password and
    becomes a user of `role`."""
    secret, expires = await runtime.accounts.invite(principal, body.role)
    response.headers["Cache-Control"] = "no-store"
    return LinkView(
        url=login_url(request, runtime.settings.public_url, f"invite={secret}"),
        expires_at=expires,
    )


@router.get("/{user_id}", response_model=UserView)
async def get_user(user_id: str, runtime: RuntimeDep) -> UserView:
    return user_view(await runtime.accounts.user(user_id))


@router.patch("/{user_id}", response_model=UserView)
async def update_user(
    user_id: str, body: UserUpdate, principal: PrincipalDep, runtime: RuntimeDep
) -> UserView:
    """Change a user's role, or disable (signs them out, stops their tokens) or enable them."""
    user = await runtime.accounts.update_user(
        principal, user_id, role=body.role, disabled=body.disabled
    )
    return user_view(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Delete a user with their tokens and sessions; their deployments become yours."""
    await runtime.accounts.delete_user(principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
