"""The idle policy and idle clock as the API takes and shows them (rules: core/idle.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from comfyhangar.core.idle import MAX_IDLE_MINUTES, MAX_KEEP_AWAKE, MAX_STOPPED_DAYS, IdleMode

MAX_KEEP_AWAKE_MINUTES = int(MAX_KEEP_AWAKE.total_seconds() // 60)


class IdlePolicyInput(BaseModel):
    """An idle policy, or the fields of one to change: what is left out stays as it is (at
    deploy: the server default). The whole policy is checked (`warn_minutes` below
    `idle_minutes`) and a bad value is a 422 naming the field."""

    model_config = ConfigDict(extra="forbid")

    mode: IdleMode | None = Field(
        default=None,
        description="stop or terminate a pod idle for idle_minutes; off: never",
        examples=["stop"],
    )
    idle_minutes: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=int(MAX_IDLE_MINUTES),
        description="Minutes without activity before the idle action (1 to a week)",
        examples=[30],
    )
    warn_minutes: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=int(MAX_IDLE_MINUTES),
        description="Minutes of warning before it (less than idle_minutes)",
        examples=[5],
    )
    terminate_after_stopped_days: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=int(MAX_STOPPED_DAYS),
        description="Terminate the deployment once it has been stopped this many days",
        examples=[3],
    )
    never_terminate_when_stopped: bool = Field(
        default=False,
        strict=True,
        description="Clear terminate_after_stopped_days (a stopped deployment stays)",
        examples=[False],
    )


class IdlePolicyView(BaseModel):
    mode: IdleMode
    idle_minutes: float
    warn_minutes: float
    terminate_after_stopped_days: float | None
    source: Literal["deployment", "default"] = Field(
        description="deployment: set for it; default: the server's (HANGAR_IDLE_*)"
    )


class ActivityView(BaseModel):
    """What one activity source said at the guard's last look."""

    source: str
    active: bool
    reason: str
    unreadable: bool = Field(description="The source could not be read (counted as active)")


class IdleView(BaseModel):
    """The idle clock. Every figure is a moment: a countdown is computed from them (the
    dashboard does it locally, without asking again)."""

    policy: IdlePolicyView
    watching: bool = Field(
        description="The guard counts idle time now (the deployment is ready, policy not off)"
    )
    last_activity_at: datetime | None = Field(
        description="The last moment anything used the pod (setup counts); idle since then"
    )
    checked_at: datetime | None = Field(description="The guard's last look")
    keep_awake_until: datetime | None
    warned_at: datetime | None = Field(description="The idle warning given, if any")
    warn_at: datetime | None = Field(description="When the warning comes, if nothing happens")
    acts_at: datetime | None = Field(
        description="When the guard stops or terminates the pod, if nothing happens"
    )
    action: Literal["stop", "terminate"] | None = Field(
        description="What happens at acts_at (terminate for a deployment stopped too long)"
    )
    stopped_since: datetime | None
    activity: list[ActivityView] = Field(
        description="Each source at the last look; an active one keeps the pod awake"
    )


class KeepAwakeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(
        strict=True,
        ge=1,
        le=MAX_KEEP_AWAKE_MINUTES,
        description=f"Keep the pod from idle actions this long (1 to {MAX_KEEP_AWAKE_MINUTES})",
        examples=[120],
    )
