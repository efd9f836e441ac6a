"""Operator tools for the database: online backup and restore of SQLite, and copying every row
from one database to another (SQLite to PostgreSQL when a team outgrows one machine).

PostgreSQL is backed up with its own tools (`pg_dump`, `pg_restore`; docs/operations.md): they
are consistent while the server runs and no wrapper would add anything.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Integer, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from comfyhangar.server.db.engine import make_engine, sqlite_path
from comfyhangar.server.db.migrate import current_revision, head_revision, migrate
from comfyhangar.server.db.models import Base

COPY_BATCH_ROWS = 1000


class DatabaseToolError(Exception):
    """An operation that cannot be done as asked; the message says why and what to do."""


def backup_sqlite(database: Path, destination: Path) -> int:
    """Copy a live SQLite database to `destination` with SQLite's online backup API.

    Consistent while the server writes (WAL included), readable only by its owner. Refuses to
    overwrite a file. Returns the size of the backup in bytes.
    """
    if not database.is_file():
        raise DatabaseToolError(f"no database at {database}")
    if destination.exists():
        raise DatabaseToolError(f"{destination} exists; choose a new file name")
    _copy_sqlite(database, destination)
    return destination.stat().st_size


def restore_sqlite(backup: Path, database: Path, *, replace: bool = False) -> None:
    """Put a backup made by `backup_sqlite` in place of `database` (the server must be stopped).

    The backup is checked first (a readable SQLite database with ComfyHangar's tables); an
    existing database is only replaced with `replace`, and its `-wal`/`-shm` files go with it.
    """
    _check_sqlite_backup(backup)
    if database.exists() and not replace:
        raise DatabaseToolError(f"{database} exists; pass --replace to overwrite it")
    database.parent.mkdir(parents=True, exist_ok=True)
    staging = database.with_name(database.name + ".restoring")
    staging.unlink(missing_ok=True)
    _copy_sqlite(backup, staging)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(staging, database)


def _copy_sqlite(source_path: Path, destination: Path) -> None:
    """Copy a SQLite database with the online backup API into a new owner-only file that is
    self-contained (no `-wal` beside it)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()


def _check_sqlite_backup(backup: Path) -> None:
    if not backup.is_file():
        raise DatabaseToolError(f"no backup at {backup}")
    try:
        connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            names = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseToolError(f"{backup} is not a SQLite database: {exc}") from None
    if not {"alembic_version", "deployments", "events"} <= names:
        raise DatabaseToolError(f"{backup} is not a ComfyHangar database")


async def copy_database(
    source_url: str, target_url: str, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of a ComfyHangar database into an empty one; returns rows per table.

    The source must be at this version's schema (start the server on it once to migrate it)
    and is only read. The target is migrated to the same schema and must hold no rows; the
    whole copy is one transaction, so a failure leaves it empty. Ids are kept, and
    PostgreSQL's id sequences are moved past them.
    """
    if source_url == target_url:
        raise DatabaseToolError("the source and the target are the same database")
    db_file = sqlite_path(source_url)
    if db_file is not None and not db_file.is_file():
        raise DatabaseToolError(f"no database at {db_file}")
    source = make_engine(source_url)
    target = None
    try:
        async with source.connect() as src:
            revision = await src.run_sync(current_revision)
            if revision != head_revision():
                raise DatabaseToolError(
                    f"the source is at schema revision {revision!r}, not {head_revision()!r}: "
                    "start this version of the server on it once (it migrates), then copy"
                )
            await migrate(target_url)
            target = make_engine(target_url)
            counts: dict[str, int] = {}
            async with target.begin() as dst:
                await _refuse_rows(dst)
                for table in Base.metadata.sorted_tables:
                    copied = 0
                    result = await src.stream(select(table))
                    async for batch in result.mappings().partitions(COPY_BATCH_ROWS):
                        await dst.execute(insert(table), [dict(row) for row in batch])
                        copied += len(batch)
                        if progress is not None:
                            progress(table.name, copied)
                    counts[table.name] = copied
                if dst.dialect.name == "postgresql":
                    await _advance_sequences(dst)
            return counts
    finally:
        await source.dispose()
        if target is not None:
            await target.dispose()


async def _refuse_rows(connection: AsyncConnection) -> None:
    for table in Base.metadata.sorted_tables:
        rows = (await connection.execute(select(func.count()).select_from(table))).scalar_one()
        if rows:
            raise DatabaseToolError(
                f"the target is not empty ({table.name} has {rows} row(s)); copy into a new "
                "database"
            )


async def _advance_sequences(connection: AsyncConnection) -> None:
    """After explicit ids were inserted, set each identity/serial sequence past the largest."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer) or column.autoincrement is False:
                continue
            sequence = (
                await connection.execute(
                    text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": table.name, "column": column.name},
                )
            ).scalar()
            if sequence is None:
                continue
            await connection.execute(
                text(
                    f"SELECT setval(:sequence, COALESCE((SELECT MAX({column.name}) FROM "  # noqa: S608 - names from our own metadata
                    f"{table.name}), 0) + 1, false)"
                ),
                {"sequence": sequence},
            )
