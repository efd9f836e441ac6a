"""Workflow library requests and views, and registered ComfyUI servers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from comfyhangar.server.schemas.patterns import LABEL_REGEX, pattern

WorkflowName = Annotated[
    str,
    pattern(LABEL_REGEX, "printable characters, no leading or trailing space", max_length=128),
    Field(examples=["sdxl portrait"]),
]
ServerName = Annotated[
    str,
    pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "letters, digits, '.', '_' or '-' (1 to 64)"),
    Field(examples=["my-4090"]),
]
ServerUrl = Annotated[
    str,
    pattern(
        r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$",
        "an http(s) URL without query or fragment, such as http://192.168.1.5:8188",
        max_length=2048,
    ),
    Field(examples=["http://127.0.0.1:8188"]),
]
HeaderName = Annotated[
    str,
    pattern(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$", "an HTTP header name such as Authorization"),
    Field(examples=["Authorization"]),
]
HeaderValue = Annotated[
    str,
    pattern(r"^[!-~](?:[ -~]{0,4094}[!-~])?$", "printable ASCII, no leading or trailing space"),
    Field(examples=["Bearer 0123456789abcdef"]),
]
DeploymentId = Annotated[
    str,
    pattern(r"^[0-9a-f]{32}$", "a deployment id: 32 lowercase hex digits"),
    Field(examples=["6f1c2a9e0b8d4e7fa3c5d1b2e4f60718"]),
]
ServerId = Annotated[
    str,
    pattern(r"^[0-9a-f]{32}$", "a server id: 32 lowercase hex digits"),
    Field(examples=["0b8d4e7fa3c5d1b26f1c2a9ee4f60718"]),
]


class WorkflowInput(BaseModel):
    """A value a user may change per run, addressed as `node_id.input` (`6.text`)."""

    key: str = Field(examples=["6.text"])
    node_id: str
    class_type: str
    input: str
    type: str = Field(description="INT, FLOAT, STRING, BOOLEAN, COMBO (a list of choices) or JSON")
    default: Any = Field(description="The value stored in the workflow")


class WorkflowVersionView(BaseModel):
    version: int
    source_format: Literal["ui", "api"]
    has_api_prompt: bool = Field(
        description="False when the UI graph uses nodes the reference set lacks: it is converted "
        "against the target's nodes when run"
    )
    inputs: list[WorkflowInput]
    note: str
    created_at: datetime


class WorkflowView(BaseModel):
    id: str
    name: str
    description: str
    tags: list[str]
    latest_version: int
    created_at: datetime
    updated_at: datetime
    inputs: list[WorkflowInput] = Field(description="The inputs of the latest version")


class WorkflowDetail(WorkflowView):
    versions: list[WorkflowVersionView] = Field(description="Every version, newest first")


class WorkflowList(BaseModel):
    items: list[WorkflowView]
    total: int


class WorkflowDocument(BaseModel):
    """A version's workflow as stored: the API prompt and the UI graph it came from."""

    workflow_id: str
    version: int
    source_format: Literal["ui", "api"]
    api_prompt: dict[str, Any] | None
    ui_graph: dict[str, Any] | None


class ConvertRequest(BaseModel):
    """A UI workflow to convert, and whose nodes to convert it against (one at most; none: the
    reference node set of ComfyUI 0.3.64)."""

    model_config = ConfigDict(extra="forbid")

    workflow: dict[str, Any] = Field(description="The UI-format workflow (what the editor saves)")
    deployment_id: DeploymentId | None = None
    server_id: ServerId | None = None
    object_info: dict[str, Any] | None = Field(
        default=None, description="An inline `/object_info` answer"
    )


class ConvertResult(BaseModel):
    prompt: dict[str, Any] = Field(description="The API prompt `POST /prompt` takes")
    inputs: list[WorkflowInput]
    against: Literal["deployment", "server", "inline", "reference"]


class ServerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ServerName
    url: ServerUrl
    auth_header_name: HeaderName | None = Field(
        default=None, description="A header sent with every request, such as Authorization"
    )
    auth_header_value: HeaderValue | None = Field(
        default=None, description="Its value: stored as a secret, never shown again"
    )


class ServerView(BaseModel):
    id: str
    name: str
    url: str
    auth_header_name: str | None = Field(description="The header's name (its value is secret)")
    has_auth: bool
    created_at: datetime


class ServerList(BaseModel):
    items: list[ServerView]
