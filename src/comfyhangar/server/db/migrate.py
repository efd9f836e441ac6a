"""Apply Alembic migrations at start-up, one process at a time.

Two server processes starting together must not both migrate: PostgreSQL serialises them with
a session-level advisory lock, SQLite with an exclusive lock on a file beside the database.
The second process waits, then finds nothing left to do.

A database that a newer ComfyHangar migrated (its revision is unknown here) is refused before
anything touches it: running old code on a newer schema could lose or misread data, so the
start stops with a message saying to upgrade ComfyHangar (or restore a backup).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text

from comfyhangar import __version__
from comfyhangar.server.db.engine import make_engine, sqlite_path

MIGRATIONS = "comfyhangar.server.db:migrations"
# Any fixed 64-bit number, the same in every ComfyHangar process ("hangarmg" in ASCII).
PG_MIGRATION_LOCK_KEY = 0x68616E6761726D67 - (1 << 63)


class DatabaseTooNew(RuntimeError):
    """The database's schema revision is unknown to this version of ComfyHangar."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def refuse_unknown_revision(connection: Connection) -> None:
    """Raise `DatabaseTooNew` if the database is at a revision this code does not know."""
    revision = current_revision(connection)
    if revision is None:
        return
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise DatabaseTooNew(
            f"the database is at schema revision {revision!r}, which this ComfyHangar "
            f"({__version__}, schema {head_revision()!r}) does not know: a newer version migrated "
            "it. Upgrade ComfyHangar, or restore a backup made before the upgrade "
            "(docs/operations.md)."
        )


def _upgrade(connection: Connection) -> None:
    refuse_unknown_revision(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


async def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema. Safe to call from many processes."""
    db_file = sqlite_path(url)
    if db_file is not None:
        lock_path = db_file.with_name(db_file.name + ".migrate-lock")
        # flock blocks; hold it from a worker thread so the event loop keeps running.
        await asyncio.to_thread(_acquire_and_run, lock_path, url)
        return
    await _migrate_locked(url)


def _acquire_and_run(lock_path: Path, url: str) -> None:
    with _file_lock(lock_path):
        asyncio.run(_migrate_locked(url))


async def _migrate_locked(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": PG_MIGRATION_LOCK_KEY}
                )
                await connection.commit()
            try:
                await connection.run_sync(_upgrade)
                await connection.commit()
            finally:
                if connection.dialect.name == "postgresql":
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": PG_MIGRATION_LOCK_KEY}
                    )
                    await connection.commit()
    finally:
        await engine.dispose()


async def check_revision(url: str) -> None:
    """Raise `DatabaseTooNew` if a newer ComfyHangar migrated the database at `url` (a missing
    SQLite file is new, not newer). Read only; `serve` runs it before it listens."""
    db_file = sqlite_path(url)
    if db_file is not None and not db_file.exists():
        return
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(refuse_unknown_revision)
    finally:
        await engine.dispose()
