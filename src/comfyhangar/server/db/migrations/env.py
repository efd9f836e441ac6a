"""Alembic environment: runs on the connection handed over by `comfyhangar.server.db.migrate`."""

from __future__ import annotations

from alembic import context

from comfyhangar.server.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through comfyhangar.server.db.migrate.migrate(url)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
