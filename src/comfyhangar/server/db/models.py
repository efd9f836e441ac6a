"""Tables: what users asked for (deployments), what RunPod reports (pods), and what happened (events).

Deployments hold intent (`desired_state`) and the observed lifecycle (`state`); pods mirror
RunPod's view of a pod, matched to a deployment by its tag; events are append-only with a
strictly increasing id that live streams resume from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from comfyhangar.server.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


# A deployment holds its name until it is terminated: the database refuses a second live one.
LIVE_NAME_WHERE = "state != 'terminated'"
LIVE_NAME_INDEX = "uq_deployments_live_name"


class Deployment(Base):
    """One ComfyUI deployment as the user asked for it, and where it stands.

    Names are unique among deployments that are not terminated (a partial unique index), so
    concurrent creates with one name make one deployment.
    """

    __tablename__ = "deployments"
    __table_args__ = (
        Index(
            LIVE_NAME_INDEX,
            "name",
            unique=True,
            sqlite_where=text(LIVE_NAME_WHERE),
            postgresql_where=text(LIVE_NAME_WHERE),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    desired_state: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    state_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped by every change; a process acts on RunPod only if nothing changed since it looked.
    version: Mapped[int] = mapped_column(default=1)
    # A server process that is acting on this deployment (calling RunPod) holds the lock.
    lock_token: Mapped[str | None] = mapped_column(String(32), default=None)
    lock_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # The pod that serves this deployment (kept after it is gone, for history).
    pod_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Set before a create is sent; a create is never repeated blindly once this is set.
    create_intent_at: Mapped[datetime | None] = mapped_column(default=None)
    restart_requested: Mapped[bool] = mapped_column(default=False)
    # The agent reported `ready` since the pod last (re)started.
    setup_ready: Mapped[bool] = mapped_column(default=False)
    # Latest progress per setup step, as the agent reported it.
    setup: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Id of the last pod log event consumed (RunPod's Last-Event-ID), for exact resume.
    log_cursor: Mapped[str | None] = mapped_column(String(64), default=None)
    # Cost metered up to this moment (cloud clock), at the pod status seen then.
    metered_until: Mapped[datetime | None] = mapped_column(default=None)
    metered_status: Mapped[str | None] = mapped_column(String(16), default=None)
    # The idle guard (core/idle.py). The policy as the user set it (None: the server default).
    idle_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The idle clock: the last moment anything used the pod (setup counts), and the warning
    # given since (cleared by activity). Moments, never countdowns: a restart continues them.
    last_activity_at: Mapped[datetime | None] = mapped_column(default=None)
    idle_warned_at: Mapped[datetime | None] = mapped_column(default=None)
    keep_awake_until: Mapped[datetime | None] = mapped_column(default=None)
    # The guard's last look and what each activity source said then (shown with the clock).
    idle_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    idle_signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Since when the deployment has been stopped (the terminate-after-stopped timer).
    stopped_since: Mapped[datetime | None] = mapped_column(default=None)


class Pod(Base):
    """A RunPod pod as last seen. `deployment_id` is null for pods that are not ours."""

    __tablename__ = "pods"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    gpu_type_id: Mapped[str | None] = mapped_column(String(128), default=None)
    gpu_count: Mapped[int] = mapped_column(default=0)
    cloud: Mapped[str | None] = mapped_column(String(16), default=None)
    data_center_id: Mapped[str | None] = mapped_column(String(32), default=None)
    cost_per_hour: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    # The pod as RunPod returned it, without `env` (which may carry tokens).
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    gone_at: Mapped[datetime | None] = mapped_column(default=None)


class Event(Base):
    """Something that happened, in order. Ids strictly increase in commit order."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_deployment_id_id", "deployment_id", "id"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    type: Mapped[str] = mapped_column(String(32))
    deployment_id: Mapped[str | None] = mapped_column(String(32), default=None)
    pod_id: Mapped[str | None] = mapped_column(String(64), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LogLine(Base):
    """A bounded tail of each deployment's pod log (the follower trims old lines)."""

    __tablename__ = "log_lines"
    __table_args__ = (Index("ix_log_lines_deployment_id_id", "deployment_id", "id"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    pod_id: Mapped[str] = mapped_column(String(64))
    log_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))
    line: Mapped[str] = mapped_column(Text)


class CostSegment(Base):
    """A stretch of a pod's life at one status and rate, and what it cost (USD).

    Segments of one deployment tile time without overlap: each is written together with the
    deployment's `metered_until`, under a compare-and-set on it.
    """

    __tablename__ = "cost_segments"
    __table_args__ = (
        Index("ix_cost_segments_deployment_id_start_at", "deployment_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    pod_id: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    gpu_type_id: Mapped[str | None] = mapped_column(String(128), default=None)
    gpu_rate: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    disk_rate: Mapped[Decimal] = mapped_column(Numeric(14, 9))
    gpu_amount: Mapped[Decimal] = mapped_column(Numeric(18, 9))
    disk_amount: Mapped[Decimal] = mapped_column(Numeric(18, 9))


class Budget(Base):
    """A spending limit over a period, for everything or one deployment, and what it does.

    `notified` remembers, per period (e.g. "2026-11-26" or "2026-11"), which warning thresholds
    already fired and whether the cap already acted, so each fires once per period.
    """

    __tablename__ = "budgets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), default=None, index=True
    )
    period: Mapped[str] = mapped_column(String(16))  # daily | monthly
    limit_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    warn_at: Mapped[list[float]] = mapped_column(JSON, default=list)  # fractions of the limit
    on_exceed: Mapped[str] = mapped_column(String(16))  # warn | stop | terminate
    notified: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NetworkVolumeRow(Base):
    """A network volume of the account, as last seen, and how far it has been metered."""

    __tablename__ = "network_volumes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    size_gb: Mapped[int]
    data_center_id: Mapped[str | None] = mapped_column(String(32), default=None)
    first_seen_at: Mapped[datetime]
    metered_until: Mapped[datetime]
    gone_at: Mapped[datetime | None] = mapped_column(default=None)


class VolumeCostSegment(Base):
    """A stretch of a network volume's life at one size, and what it cost (USD)."""

    __tablename__ = "volume_cost_segments"
    __table_args__ = (Index("ix_volume_cost_segments_volume_id_start_at", "volume_id", "start_at"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    volume_id: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    size_gb: Mapped[int]
    rate: Mapped[Decimal] = mapped_column(Numeric(14, 9))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 9))


class DeploymentSecret(Base):
    """A secret of one deployment (pod token, Hugging Face or Civitai token): write-only.

    Read only to build the pod's create request and the owner's one-click link; never put in
    a view, an event or a log line.
    """

    __tablename__ = "deployment_secrets"

    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"DeploymentSecret({self.deployment_id!r}, {self.name!r}, <hidden>)"


class Workflow(Base):
    """A workflow of the library: a name and its versions (every change is a new version).

    `owner` is left for accounts (null: the installation's single user).
    """

    __tablename__ = "workflows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    latest_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkflowVersion(Base):
    """One immutable version of a workflow: the API prompt (null when it could be converted
    only against a target's nodes), the UI graph it came from (if any) and its inputs."""

    __tablename__ = "workflow_versions"

    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True)
    source_format: Mapped[str] = mapped_column(String(8))  # ui | api
    api_prompt: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    ui_graph: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # [{key: "6.text", node_id, class_type, input, type, default}]
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComfyUIServer(Base):
    """A ComfyUI that ComfyHangar does not manage, registered as a run target.

    Its auth header value is a secret: stored here, sent only to that server, never shown.
    """

    __tablename__ = "comfyui_servers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    auth_header_name: Mapped[str | None] = mapped_column(String(128), default=None)
    auth_header_value: Mapped[str | None] = mapped_column(Text, default=None)
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"ComfyUIServer({self.id!r}, {self.name!r}, {self.url!r})"


class Run(Base):
    """One prompt run on a target (deployment or registered server), and where it stands.

    `prompt_id` is chosen and committed before anything is posted; a process acts on a run only
    under its lease (`lock_token`), like deployments.
    """

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_state_created_at", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    batch_index: Mapped[int] = mapped_column(default=0)
    workflow_id: Mapped[str | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="SET NULL"), index=True, default=None
    )
    workflow_version: Mapped[int | None] = mapped_column(default=None)
    deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), index=True, default=None
    )
    server_id: Mapped[str | None] = mapped_column(
        ForeignKey("comfyui_servers.id", ondelete="SET NULL"), index=True, default=None
    )
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The API prompt as it is (or was) posted, overrides and seed applied.
    prompt: Mapped[dict[str, Any]] = mapped_column(JSON)
    prompt_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    lock_token: Mapped[str | None] = mapped_column(String(32), default=None)
    lock_expires_at: Mapped[datetime | None] = mapped_column(default=None)


class RunPreview(Base):
    """The latest preview image of a running run (a sampler's step), replaced as new ones come."""

    __tablename__ = "run_previews"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    node_id: Mapped[str | None] = mapped_column(String(64), default=None)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Output(Base):
    """A file a run produced, copied home: where it is stored and what it is."""

    __tablename__ = "outputs"
    __table_args__ = (
        Index(
            "uq_outputs_run_file",
            "run_id",
            "node_id",
            "folder_type",
            "subfolder",
            "filename",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="images")
    folder_type: Mapped[str] = mapped_column(String(16), default="output")
    subfolder: Mapped[str] = mapped_column(String(255), default="")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    storage_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
