"""workflows, their versions, registered ComfyUI servers, runs, their previews and outputs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from comfyhangar.server.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("name", name=op.f("uq_workflows_name")),
    )
    op.create_table(
        "workflow_versions",
        sa.Column("workflow_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(length=8), nullable=False),
        sa.Column("api_prompt", sa.JSON(), nullable=True),
        sa.Column("ui_graph", sa.JSON(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("workflow_versions", "workflow_id", "workflows", "CASCADE"),
        sa.PrimaryKeyConstraint("workflow_id", "version", name=op.f("pk_workflow_versions")),
    )
    op.create_table(
        "comfyui_servers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("auth_header_name", sa.String(length=128), nullable=True),
        sa.Column("auth_header_value", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comfyui_servers")),
        sa.UniqueConstraint("name", name=op.f("uq_comfyui_servers_name")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("batch_index", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=32), nullable=True),
        sa.Column("workflow_version", sa.Integer(), nullable=True),
        sa.Column("deployment_id", sa.String(length=32), nullable=True),
        sa.Column("server_id", sa.String(length=32), nullable=True),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("prompt", sa.JSON(), nullable=False),
        sa.Column("prompt_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lock_token", sa.String(length=32), nullable=True),
        sa.Column("lock_expires_at", UTCDateTime(), nullable=True),
        _fk("runs", "workflow_id", "workflows", "SET NULL"),
        _fk("runs", "deployment_id", "deployments", "SET NULL"),
        _fk("runs", "server_id", "comfyui_servers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("prompt_id", name=op.f("uq_runs_prompt_id")),
    )
    op.create_index(op.f("ix_runs_batch_id"), "runs", ["batch_id"])
    op.create_index(op.f("ix_runs_workflow_id"), "runs", ["workflow_id"])
    op.create_index(op.f("ix_runs_deployment_id"), "runs", ["deployment_id"])
    op.create_index(op.f("ix_runs_server_id"), "runs", ["server_id"])
    op.create_index("ix_runs_state_created_at", "runs", ["state", "created_at"])
    op.create_table(
        "run_previews",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("run_previews", "run_id", "runs", "CASCADE"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_previews")),
    )
    op.create_table(
        "outputs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("folder_type", sa.String(length=16), nullable=False),
        sa.Column("subfolder", sa.String(length=255), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("outputs", "run_id", "runs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outputs")),
    )
    op.create_index(op.f("ix_outputs_run_id"), "outputs", ["run_id"])
    op.create_index(op.f("ix_outputs_created_at"), "outputs", ["created_at"])
    op.create_index(
        "uq_outputs_run_file",
        "outputs",
        ["run_id", "node_id", "folder_type", "subfolder", "filename"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("outputs")
    op.drop_table("run_previews")
    op.drop_table("runs")
    op.drop_table("comfyui_servers")
    op.drop_table("workflow_versions")
    op.drop_table("workflows")
