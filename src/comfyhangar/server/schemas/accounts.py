"""Requests and views of sign-in, users and API tokens. No view carries a secret, except the
one response that makes a token (`TokenCreated.token`, shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from comfyhangar.core.access import Role, Scope
from comfyhangar.server.schemas.patterns import LABEL_REGEX, pattern

UserName = Annotated[
    str,
    pattern(
        r"^[a-z0-9][a-z0-9._-]{0,63}$",
        "a user name: lowercase letters, digits, '.', '_' or '-', starting with a letter or "
        "digit, at most 64",
    ),
    Field(examples=["ada"]),
]
TokenName = Annotated[
    str,
    pattern(LABEL_REGEX, "printable characters, no leading or trailing space", max_length=64),
    Field(examples=["laptop CLI"]),
]
Secret = Annotated[
    SecretStr,
    Field(min_length=1, max_length=1024, examples=["hgr_... or a one-time link's secret"]),
]
Password = Annotated[
    SecretStr, Field(min_length=1, max_length=1024, examples=["correct horse battery staple"])
]


class SignInRequest(BaseModel):
    """One of: `name` + `password`; `token` (an API token); `link` (a one-time login link)."""

    model_config = ConfigDict(extra="forbid")

    name: UserName | None = None
    password: Password | None = None
    token: Secret | None = None
    link: Secret | None = None

    @model_validator(mode="after")
    def _one_way(self) -> SignInRequest:
        ways = [
            self.name is not None and self.password is not None,
            self.token is not None,
            self.link is not None,
        ]
        if sum(ways) != 1 or (self.name is None) != (self.password is None):
            raise ValueError("send name and password, or token, or link (exactly one way)")
        return self


class InviteAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invite: Secret
    name: UserName
    password: Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current: Password | None = Field(default=None, description="Omit when you have none yet")
    new: Password


class Me(BaseModel):
    """The signed-in user; `csrf_token` goes into `X-CSRF-Token` of the dashboard's writes."""

    id: str
    name: str
    role: Role
    scopes: list[Scope]
    via: Literal["session", "token"]
    csrf_token: str | None = None


class UserView(BaseModel):
    id: str
    name: str
    role: Role
    disabled: bool
    has_password: bool
    created_at: datetime


class UserList(BaseModel):
    users: list[UserView]


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None


class InviteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role = Role.MEMBER


class LinkView(BaseModel):
    """A one-time link to open in a browser (it signs in, or accepts an invite), once."""

    url: str
    expires_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TokenName
    scopes: list[Scope] = Field(min_length=1, max_length=4, examples=[["read", "deploy"]])
    expires_in_days: float | None = Field(
        default=90, gt=0, le=3660, description="null: never expires"
    )


class TokenView(BaseModel):
    id: str
    name: str
    user_id: str
    hint: str = Field(description="The token's first characters, to recognise it")
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenView):
    token: str = Field(description="The token itself: shown this once, never again")


class TokenList(BaseModel):
    tokens: list[TokenView]
