"""Run requests and views, and outputs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from comfyhangar.server.schemas.patterns import pattern
from comfyhangar.server.schemas.workflows import DeploymentId, ServerId

RunState = Literal["queued", "dispatching", "running", "succeeded", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
WorkflowId = Annotated[
    str,
    pattern(r"^[0-9a-f]{32}$", "a workflow id: 32 lowercase hex digits"),
    Field(examples=["a3c5d1b2e4f607186f1c2a9e0b8d4e7f"]),
]
InputKey = Annotated[
    str,
    pattern(
        r"^[A-Za-z0-9_:-]{1,64}\.[A-Za-z0-9_ .-]{0,127}[A-Za-z0-9_]$",
        "node_id.input, such as 6.text or 3.seed",
    ),
    Field(examples=["6.text"]),
]
MAX_COUNT = 100


class RunCreate(BaseModel):
    """What to run (a workflow version, or a raw API prompt), where, and with which values."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowId | None = None
    workflow_version: int | None = Field(
        default=None, ge=1, le=1_000_000, strict=True, description="Default: the latest version"
    )
    prompt: dict[str, Any] | None = Field(
        default=None, description="A raw API prompt, instead of a workflow"
    )
    deployment_id: DeploymentId | None = Field(default=None, description="Run on a deployment")
    server_id: ServerId | None = Field(default=None, description="Run on a registered server")
    overrides: dict[InputKey, Any] = Field(
        default_factory=dict,
        max_length=1000,
        description="Values by `node_id.input` (see the workflow's `inputs`)",
        examples=[{"6.text": "a red fox", "3.steps": 20}],
    )
    count: int = Field(
        default=1, ge=1, le=MAX_COUNT, strict=True, description="How many runs to queue"
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**53 - 1,
        strict=True,
        description="The first run's seed (every seed input)",
    )
    seed_mode: Literal["increment", "random", "fixed"] = Field(
        default="increment", description="How seeds vary over `count` runs"
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> RunCreate:
        if (self.workflow_id is None) == (self.prompt is None):
            raise ValueError("give either workflow_id or prompt")
        if (self.deployment_id is None) == (self.server_id is None):
            raise ValueError("give either deployment_id or server_id as the target")
        if self.workflow_version is not None and self.workflow_id is None:
            raise ValueError("workflow_version needs workflow_id")
        return self


class RunProgress(BaseModel):
    node: str | None = Field(default=None, description="The node running now")
    step: int | None = None
    steps: int | None = None
    percent: float = Field(default=0.0, description="Of the whole prompt, 0 to 100")
    nodes_done: int = 0
    nodes_total: int = 0


class NodeError(BaseModel):
    node_id: str | None = None
    class_type: str | None = None
    input: str | None = None
    message: str


class RunError(BaseModel):
    """Why a run failed: ComfyUI's words, node by node."""

    type: str = Field(description="rejected, execution_error, lost, unreachable, target_gone")
    message: str
    nodes: list[NodeError] = Field(default_factory=list)


class RunView(BaseModel):
    id: str
    batch_id: str
    batch_index: int
    workflow_id: str | None
    workflow_version: int | None
    deployment_id: str | None
    server_id: str | None
    overrides: dict[str, Any]
    prompt_id: str
    state: RunState
    cancel_requested: bool
    progress: RunProgress
    error: RunError | None
    output_count: int
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class RunList(BaseModel):
    items: list[RunView]
    total: int


class RunBatch(BaseModel):
    batch_id: str
    runs: list[RunView]


class OutputView(BaseModel):
    id: str
    run_id: str
    node_id: str
    kind: str = Field(description="The output key it was listed under: images, gifs, audio")
    folder_type: str = Field(description="output or temp (previews)")
    filename: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    created_at: datetime
    url: str = Field(description="Where its bytes are: GET it")


class OutputList(BaseModel):
    items: list[OutputView]
    total: int
