"""idle guard: per-deployment idle policy and the idle clock

The policy a deployment was given (null: the server default), the clock ("last activity at",
the warning given, keep-awake), the guard's last reading of the activity signals, and since
when the deployment has been stopped (for terminate-after-stopped). Rows made before start
with an empty clock: the guard's first look sets it to that moment, so nothing is stopped for
time that passed before the guard existed.

Revision ID: 0010
Revises: 0008 (the revisions are applied in their numbers' order; 0009, accounts, goes between
when it lands)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comfyhangar.server.db.types

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

MOMENTS = (
    "last_activity_at",
    "idle_warned_at",
    "keep_awake_until",
    "idle_checked_at",
    "stopped_since",
)


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idle_policy", sa.JSON(), nullable=True))
        for name in MOMENTS:
            batch_op.add_column(
                sa.Column(
                    name, comfyhangar.server.db.types.UTCDateTime(timezone=True), nullable=True
                )
            )
        batch_op.add_column(
            sa.Column("idle_signals", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("idle_signals")
        for name in reversed(MOMENTS):
            batch_op.drop_column(name)
        batch_op.drop_column("idle_policy")
