"""reconciler state and log tail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comfyhangar.server.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("deployment_id", sa.String(length=32), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("ts", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_log_lines_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_lines")),
    )
    with op.batch_alter_table("log_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_log_lines_deployment_id_id", ["deployment_id", "id"], unique=False
        )

    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("pod_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "create_intent_at",
                comfyhangar.server.db.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("restart_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("setup_ready", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("setup", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("log_cursor", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("log_cursor")
        batch_op.drop_column("setup")
        batch_op.drop_column("setup_ready")
        batch_op.drop_column("restart_requested")
        batch_op.drop_column("create_intent_at")
        batch_op.drop_column("pod_id")
        batch_op.drop_column("version")

    with op.batch_alter_table("log_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_log_lines_deployment_id_id")

    op.drop_table("log_lines")
