"""cost meter segments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comfyhangar.server.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cost_segments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("deployment_id", sa.String(length=32), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column(
            "start_at", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("end_at", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gpu_type_id", sa.String(length=128), nullable=True),
        sa.Column("gpu_rate", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("disk_rate", sa.Numeric(precision=14, scale=9), nullable=False),
        sa.Column("gpu_amount", sa.Numeric(precision=18, scale=9), nullable=False),
        sa.Column("disk_amount", sa.Numeric(precision=18, scale=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_cost_segments_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_segments")),
    )
    with op.batch_alter_table("cost_segments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cost_segments_deployment_id_start_at", ["deployment_id", "start_at"], unique=False
        )

    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "metered_until",
                comfyhangar.server.db.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("metered_status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("metered_status")
        batch_op.drop_column("metered_until")

    with op.batch_alter_table("cost_segments", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_segments_deployment_id_start_at")

    op.drop_table("cost_segments")
