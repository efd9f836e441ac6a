"""`/tokens`: one's API tokens (an admin may list everyone's). A token is shown once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from comfyhangar.server.auth import PrincipalDep
from comfyhangar.server.db.models import ApiToken
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.accounts import TokenCreate, TokenCreated, TokenList, TokenView
from comfyhangar.server.services.api_tokens import scope_set

router = APIRouter(prefix="/tokens", tags=["tokens"])


def token_view(row: ApiToken) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        user_id=row.user_id,
        hint=row.hint,
        scopes=sorted(scope_set(row.scopes)),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@router.get("", response_model=TokenList)
async def list_tokens(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    all_users: Annotated[bool, Query(alias="all", description="Admins: everyone's")] = False,
) -> TokenList:
    """One's API tokens, newest first (revoked and expired ones too)."""
    rows = await runtime.accounts.tokens.list_for(principal, everyone=all_users)
    return TokenList(tokens=[token_view(r) for r in rows])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
async def create_token(
    body: TokenCreate, principal: PrincipalDep, runtime: RuntimeDep, response: Response
) -> TokenCreated:
    """Make an API token with some of one's own scopes. The response holds the token: the
    only time it is shown."""
    row, secret = await runtime.accounts.tokens.create(
        principal, body.name, body.scopes, body.expires_in_days
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenCreated(**token_view(row).model_dump(), token=secret)


@router.delete("/{token_id}", response_model=TokenView)
async def revoke_token(token_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> TokenView:
    """Revoke an API token (it stops working at once). Idempotent."""
    return token_view(await runtime.accounts.tokens.revoke(principal, token_id))
