"""Budget requests and views."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from comfyhangar.server.schemas.patterns import LABEL_REGEX, pattern

BudgetName = Annotated[
    str,
    pattern(LABEL_REGEX, "printable characters, no leading or trailing space", max_length=64),
    Field(examples=["monthly cap"]),
]
DeploymentId = Annotated[
    str,
    pattern(r"^[0-9a-f]{32}$", "a deployment id: 32 lowercase hex digits"),
    Field(examples=["6f1c2a9e0b8d4e7fa3c5d1b2e4f60718"]),
]
Period = Literal["daily", "monthly"]
OnExceed = Literal["warn", "stop", "terminate"]


def _thresholds(value: list[float]) -> list[float]:
    if any(not 0 < t < 1 for t in value):
        raise ValueError("warning thresholds are fractions of the limit, between 0 and 1")
    return sorted(set(value))


class BudgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BudgetName
    deployment_id: DeploymentId | None = Field(
        default=None, description="Omit for a budget over every deployment"
    )
    period: Period = "monthly"
    limit_usd: Decimal = Field(gt=0, le=1_000_000, examples=["50.00"])
    warn_at: list[float] = Field(default_factory=lambda: [0.5, 0.8, 0.9], max_length=10)
    on_exceed: OnExceed = Field(
        default="stop", description="What the cap does: only warn, stop, or terminate the pods"
    )

    @field_validator("warn_at")
    @classmethod
    def _check(cls, value: list[float]) -> list[float]:
        return _thresholds(value)


class BudgetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BudgetName | None = None
    limit_usd: Decimal | None = Field(default=None, gt=0, le=1_000_000)
    warn_at: list[float] | None = Field(default=None, max_length=10)
    on_exceed: OnExceed | None = None

    @field_validator("warn_at")
    @classmethod
    def _check(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else _thresholds(value)


class BudgetView(BaseModel):
    id: str
    name: str
    deployment_id: str | None
    period: Period
    limit_usd: Decimal
    warn_at: list[float]
    on_exceed: OnExceed
    period_start: datetime
    period_end: datetime
    spent_usd: Decimal
    remaining_usd: Decimal
    state: Literal["ok", "warning", "exceeded"]


class BudgetList(BaseModel):
    budgets: list[BudgetView]
