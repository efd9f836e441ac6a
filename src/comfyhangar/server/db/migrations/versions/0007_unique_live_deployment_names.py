"""unique names among deployments that are not terminated

A partial unique index on `deployments.name` where `state != 'terminated'`. A database made
before it may hold live deployments that share a name: the oldest keeps it, each later one is
renamed `name-2`, `name-3` ... (a name no deployment has), in its row and its stored spec, and
gets a `deployment_renamed` event that says why. Nothing else changes; the upgrade cannot fail
on duplicates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from comfyhangar.core.names import unique_name
from comfyhangar.server.db.events import PG_EVENT_LOCK_KEY
from comfyhangar.server.db.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "uq_deployments_live_name"
LIVE = "state != 'terminated'"
RENAMED_BECAUSE = (
    "another deployment that is not terminated had the same name; names are now unique "
    "among deployments that are not terminated, and the oldest one kept it"
)

deployments = sa.table(
    "deployments",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("state", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("spec", sa.JSON),
    sa.column("pod_id", sa.String),
)
events = sa.table(
    "events",
    sa.column("created_at", UTCDateTime()),
    sa.column("type", sa.String),
    sa.column("deployment_id", sa.String),
    sa.column("pod_id", sa.String),
    sa.column("data", sa.JSON),
)


def upgrade() -> None:
    bind = op.get_bind()
    taken = set(bind.scalars(sa.select(deployments.c.name)))
    live = bind.execute(
        sa.select(deployments.c.id, deployments.c.name, deployments.c.spec, deployments.c.pod_id)
        .where(sa.text(LIVE))
        .order_by(deployments.c.created_at, deployments.c.id)
    ).all()
    kept: set[str] = set()
    renames = []
    for row in live:
        if row.name not in kept:
            kept.add(row.name)
            continue
        new = unique_name(row.name, taken)
        taken.add(new)
        renames.append((row, new))
    if renames and bind.dialect.name == "postgresql":
        # Event ids in commit order, as `append_event` keeps them.
        bind.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_EVENT_LOCK_KEY})
    now = datetime.now(UTC)
    for row, new in renames:
        spec = dict(row.spec or {})
        if "name" in spec:
            spec["name"] = new
        bind.execute(
            deployments.update()
            .where(deployments.c.id == row.id)
            .values(name=new, spec=spec, updated_at=now)
        )
        bind.execute(
            events.insert().values(
                created_at=now,
                type="deployment_renamed",
                deployment_id=row.id,
                pod_id=row.pod_id,
                data={"name": new, "previous": row.name, "reason": RENAMED_BECAUSE},
            )
        )
    op.create_index(
        INDEX,
        "deployments",
        ["name"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="deployments")
