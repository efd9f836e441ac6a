"""network volume metering

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comfyhangar.server.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_volumes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size_gb", sa.Integer(), nullable=False),
        sa.Column("data_center_id", sa.String(length=32), nullable=True),
        sa.Column(
            "first_seen_at", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "metered_until", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("gone_at", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_volumes")),
    )
    op.create_table(
        "volume_cost_segments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("volume_id", sa.String(length=64), nullable=False),
        sa.Column(
            "start_at", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("end_at", comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("size_gb", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=14, scale=9), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=9), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_cost_segments")),
    )
    with op.batch_alter_table("volume_cost_segments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_volume_cost_segments_volume_id_start_at", ["volume_id", "start_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("volume_cost_segments", schema=None) as batch_op:
        batch_op.drop_index("ix_volume_cost_segments_volume_id_start_at")

    op.drop_table("volume_cost_segments")
    op.drop_table("network_volumes")
