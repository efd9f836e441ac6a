"""The event vocabulary: every event type the server emits, each with the shape of its `data`.

This module is the one place an event type is defined. To add one:

1. add a member to `EventType`;
2. write its payload model (a subclass of `EventData`) below;
3. register it in `EVENT_DATA`.

`append_event` refuses a type that is not registered and validates `data` against the payload
model, so an event that leaves the server always has the documented shape. The OpenAPI
document carries `EventType`, one schema per payload and `HangarEvent` (the body of each SSE
message, one variant per type), and the dashboard listens to the generated `EventTypeValues`:
a new type reaches the browser by regenerating the client, not by editing a second list.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from comfyhangar.core.lifecycle import DeploymentState, PodAction
from comfyhangar.core.setup_progress import SetupStepName
from comfyhangar.server.schemas.deployments import DeploymentCostView
from comfyhangar.server.schemas.runs import RunError, RunProgress, RunState


class EventType(StrEnum):
    """The type of an event: the `event:` line of its SSE message and its `type` field."""

    DEPLOYMENT_CREATED = "deployment_created"
    DEPLOYMENT_REQUESTED = "deployment_requested"
    DEPLOYMENT_STATE = "deployment_state"
    POD_CREATED = "pod_created"
    POD_ADOPTED = "pod_adopted"
    POD_STATUS = "pod_status"
    POD_ACTION = "pod_action"
    POD_TERMINATED = "pod_terminated"
    SETUP_PROGRESS = "setup_progress"
    COST_UPDATE = "cost_update"
    BUDGET_WARNING = "budget_warning"
    BUDGET_EXCEEDED = "budget_exceeded"
    BILLING_MISMATCH = "billing_mismatch"
    IDLE_WARNING = "idle_warning"
    IDLE_WARNING_WITHDRAWN = "idle_warning_withdrawn"
    IDLE_ACTION = "idle_action"
    IDLE_KEEP_AWAKE = "idle_keep_awake"
    IDLE_POLICY_CHANGED = "idle_policy_changed"
    RUN_QUEUED = "run_queued"
    RUN_PROGRESS = "run_progress"
    RUN_OUTPUT = "run_output"
    RUN_FINISHED = "run_finished"
    ERROR = "error"


class EventData(BaseModel):
    """The `data` of an event. Unknown fields are refused: the document says all there is."""

    model_config = ConfigDict(extra="forbid")


class DeploymentCreatedData(EventData):
    """A deployment was accepted; its pod is created next."""

    name: str
    gpu: str = Field(description="The first-choice GPU type id")
    gpu_count: int


class DeploymentRequestedData(EventData):
    """Someone asked a deployment to start, stop, restart or terminate."""

    action: Literal["start", "stop", "restart", "terminate"]
    source: Literal["user", "budget", "idle"]
    reason: str | None
    state: DeploymentState | None = Field(
        default=None, description="The state the request put the deployment in, if it changed it"
    )


class DeploymentStateData(EventData):
    """A deployment's state changed (committed with the change itself)."""

    state: DeploymentState
    previous: DeploymentState | None
    reason: str | None
    cost: DeploymentCostView | None = Field(
        description="The deployment's cost in the new state (the rate changes with it)"
    )


class CreateAttemptData(EventData):
    candidate: str = Field(description="The GPU type and cloud tried")
    result: str
    detail: str


class PodCreatedData(EventData):
    """The deployment's pod exists (a create answered, or a lost create's pod was found)."""

    gpu: str | None
    gpu_count: int
    data_center_id: str | None
    cost_per_hour: str
    adopted: bool = Field(description="The pod of an earlier create whose answer was lost")
    attempts: list[CreateAttemptData]


class PodAdoptedData(EventData):
    """A pod tagged for this deployment id existed without a deployment here; one was made."""

    status: str
    name: str


class PodStatusData(EventData):
    """The pod's RunPod status changed."""

    status: str
    previous: str | None
    cost_per_hour: str


class PodActionData(EventData):
    """A RunPod action on the deployment's pod completed."""

    action: PodAction
    status: str = Field(description="The pod's RunPod status after it")


class PodTerminatedData(EventData):
    """The deployment's pod is gone from the account."""


class SetupProgressData(EventData):
    """One progress line of the pod agent (docs/agent-progress-protocol.md), without `v`.

    The protocol keeps fields it does not know (forward compatibility), and so does this event.
    """

    model_config = ConfigDict(extra="allow")

    step: SetupStepName
    status: Literal["started", "running", "done", "failed", "skipped"]
    time: str | None = None
    run: str | None = None
    item: str | None = None
    message: str | None = None
    error: str | None = None
    bytes_done: int | None = None
    bytes_total: int | None = None
    items_done: int | None = None
    items_total: int | None = None
    speed_bps: float | None = None
    eta_s: float | None = None


class CostUpdateData(DeploymentCostView, EventData):
    """The meter recorded more cost for the deployment."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(description="The pod's RunPod status, None without a pod")


class BudgetData(EventData):
    budget_id: str
    name: str
    period: str = Field(description="The budget period (`2026-12` or `2026-12-04`)")
    limit_usd: str
    spent_usd: str


class BudgetWarningData(BudgetData):
    """Spending crossed one of a budget's warning thresholds (once per threshold and period)."""

    threshold: float


class BudgetExceededData(BudgetData):
    """Spending reached a budget's limit; `action` is what the budget does about it."""

    action: Literal["warn", "stop", "terminate"]


class BillingMismatchData(EventData):
    """RunPod billed a bucket differently from the meter (beyond the tolerance)."""

    kind: Literal["pod", "network_volume"]
    network_volume_id: str | None
    bucket_start: str
    bucket_end: str
    metered_usd: str
    billed_usd: str
    difference_usd: str
    difference_pct: str | None


class ErrorData(EventData):
    """Something failed for the deployment (reported once while it lasts)."""

    message: str


class IdleWarningData(EventData):
    """Nobody used the pod: the idle action comes at `acts_at` unless something happens."""

    action: Literal["stop", "terminate"]
    acts_at: str
    seconds_left: int
    idle_since: str
    reason: str


class IdleWarningWithdrawnData(EventData):
    """Activity came after a warning: the idle action is off until the pod is idle again."""

    reason: str


class IdleActionData(EventData):
    """The idle guard stopped or terminated the pod (the stop itself follows as a request)."""

    action: Literal["stop", "terminate"]
    reason: str
    idle_hours: float = Field(description="Hours since the last activity")
    last_activity_at: str
    saved_per_hour_usd: str = Field(description="The rate the action saves, per hour")


class IdleKeepAwakeData(EventData):
    """A user asked that the pod be kept awake until `until`."""

    until: str
    minutes: int


class IdlePolicyChangedData(EventData):
    """The deployment's idle policy is now this."""

    mode: Literal["stop", "terminate", "off"]
    idle_minutes: float
    warn_minutes: float
    terminate_after_stopped_days: float | None


class RunEventData(EventData):
    """What every run event says: which run, of which batch and workflow, where, in which state
    (the event's `deployment_id` is the run's deployment, if it runs on one)."""

    run_id: str
    batch_id: str
    server_id: str | None
    workflow_id: str | None
    state: RunState


class RunQueuedData(RunEventData):
    """A run was queued (committed with it; the batch's runs come together)."""

    batch_index: int


class RunProgressData(RunEventData):
    """A run started, or moved on (at most every 0.5 s per run)."""

    progress: RunProgress
    preview_url: str | None = Field(
        default=None, description="Set when a new preview image is at this address"
    )


class RunOutputData(RunEventData):
    """An output of the run was copied home (committed with its record)."""

    output_id: str
    node_id: str
    filename: str
    content_type: str
    size: int
    width: int | None
    height: int | None


class RunFinishedData(RunEventData):
    """A run ended: succeeded, failed (`error`, node by node) or cancelled."""

    error: RunError | None = None
    outputs: int = Field(default=0, description="How many outputs it brought home")
    reason: str | None = None


#: The payload model of each event type: the one registry of the vocabulary.
EVENT_DATA: dict[EventType, type[EventData]] = {
    EventType.DEPLOYMENT_CREATED: DeploymentCreatedData,
    EventType.DEPLOYMENT_REQUESTED: DeploymentRequestedData,
    EventType.DEPLOYMENT_STATE: DeploymentStateData,
    EventType.POD_CREATED: PodCreatedData,
    EventType.POD_ADOPTED: PodAdoptedData,
    EventType.POD_STATUS: PodStatusData,
    EventType.POD_ACTION: PodActionData,
    EventType.POD_TERMINATED: PodTerminatedData,
    EventType.SETUP_PROGRESS: SetupProgressData,
    EventType.COST_UPDATE: CostUpdateData,
    EventType.BUDGET_WARNING: BudgetWarningData,
    EventType.BUDGET_EXCEEDED: BudgetExceededData,
    EventType.BILLING_MISMATCH: BillingMismatchData,
    EventType.IDLE_WARNING: IdleWarningData,
    EventType.IDLE_WARNING_WITHDRAWN: IdleWarningWithdrawnData,
    EventType.IDLE_ACTION: IdleActionData,
    EventType.IDLE_KEEP_AWAKE: IdleKeepAwakeData,
    EventType.IDLE_POLICY_CHANGED: IdlePolicyChangedData,
    EventType.RUN_QUEUED: RunQueuedData,
    EventType.RUN_PROGRESS: RunProgressData,
    EventType.RUN_OUTPUT: RunOutputData,
    EventType.RUN_FINISHED: RunFinishedData,
    EventType.ERROR: ErrorData,
}


class UnknownEventTypeError(ValueError):
    """An event type that is not in the vocabulary (add it to `EventType` and `EVENT_DATA`)."""


def event_data(type: EventType | str, data: dict[str, Any] | BaseModel | None) -> dict[str, Any]:
    """`data` checked against the payload model of `type`, as the JSON an event stores.

    Fields the caller left out stay out (an optional field is absent, not null). Raises
    `UnknownEventTypeError` for a type outside the vocabulary and pydantic's `ValidationError`
    for data of the wrong shape: both are bugs of the emitting code, never of user input.
    """
    try:
        model = EVENT_DATA[EventType(type)]
    except ValueError:
        raise UnknownEventTypeError(f"{type!r} is not an EventType") from None
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", exclude_unset=True)
    parsed = model.model_validate(data or {})
    return parsed.model_dump(mode="json", exclude_unset=True)


HANGAR_EVENT_REF = "#/components/schemas/HangarEvent"


class HangarEventBase(BaseModel):
    """The envelope every event shares (the JSON of the SSE `data:` line)."""

    id: int = Field(description="Increasing; resume with `Last-Event-ID` or `?after=`")
    type: EventType
    time: datetime
    deployment_id: str | None
    pod_id: str | None


def openapi_schemas() -> dict[str, Any]:
    """Component schemas of the vocabulary: `EventType`, each payload, and `HangarEvent`, a
    union with one variant per type whose `type` is a constant."""
    ref = "#/components/schemas/{model}"
    schemas: dict[str, Any] = {}

    def add(model: type[BaseModel]) -> dict[str, Any]:
        # As sent (serialisation), as FastAPI documents the responses that share these models.
        schema = model.model_json_schema(ref_template=ref, mode="serialization")
        for name, shared in schema.pop("$defs", {}).items():
            schemas.setdefault(name, shared)
        schemas[model.__name__] = schema
        return schema

    base = add(HangarEventBase)
    del schemas[HangarEventBase.__name__]
    variants = []
    for type_, model in EVENT_DATA.items():
        add(model)
        properties = dict(base["properties"])
        properties["type"] = {"const": type_.value, "type": "string"}
        properties["data"] = {"$ref": ref.format(model=model.__name__)}
        variants.append(
            {
                "type": "object",
                "title": f"{model.__name__.removesuffix('Data')}Event",
                "properties": properties,
                "required": [*base["required"], "data"],
            }
        )
    schemas["HangarEvent"] = {
        "description": "One event of the live stream (`GET /events`): its type and its data",
        "oneOf": variants,
    }
    return schemas
