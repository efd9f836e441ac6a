"""`comfyhangar db ...`: back up, restore and copy the server's database (docs/operations.md).

Like `serve`, these work on the server's own database (from the same HANGAR_* settings), not
through its API: a backup must be possible with the server down, and a restore requires it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from comfyhangar.cli.output import err, fail, out

db = typer.Typer(
    name="db",
    help="Back up, restore or copy the server's database (HANGAR_DATABASE_URL or the SQLite "
    "file in HANGAR_DATA_DIR).",
    no_args_is_help=True,
)

PG_DUMP_HINT = (
    "PostgreSQL is backed up with its own tools, consistent while the server runs: "
    "pg_dump --format=custom --file BACKUP.dump DATABASE (see docs/operations.md)"
)


def _database_url() -> str:
    from comfyhangar.server.settings import load_settings

    return load_settings().effective_database_url


def _sqlite_file(url: str) -> Path:
    from comfyhangar.server.db.engine import sqlite_path

    path = sqlite_path(url)
    if path is None:
        raise fail(PG_DUMP_HINT)
    return path


@db.command()
def backup(
    destination: Annotated[Path, typer.Argument(help="New file to write the backup to")],
) -> None:
    """Back up the SQLite database while the server runs (SQLite's online backup)."""
    from comfyhangar.server.db.tools import DatabaseToolError, backup_sqlite

    database = _sqlite_file(_database_url())
    try:
        size = backup_sqlite(database, destination)
    except DatabaseToolError as exc:
        raise fail(str(exc)) from None
    out().print(f"backed up {database} to {destination} ({size:,} bytes)", highlight=False)


@db.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(metavar="BACKUP", help="A `db backup` file")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the current database")
    ] = False,
) -> None:
    """Put a SQLite backup in place of the database. Stop the server first."""
    from comfyhangar.server.db.tools import DatabaseToolError, restore_sqlite

    database = _sqlite_file(_database_url())
    try:
        restore_sqlite(backup_file, database, replace=replace)
    except DatabaseToolError as exc:
        raise fail(str(exc)) from None
    out().print(f"restored {backup_file} to {database}", highlight=False)


@db.command()
def copy(
    to: Annotated[str, typer.Option("--to", help="URL of the new, empty database")],
    source: Annotated[
        str | None,
        typer.Option("--from", help="URL to copy from \\[default: the server's database]"),
    ] = None,
) -> None:
    """Copy every row into a new database (SQLite to PostgreSQL). Stop the server first."""
    from comfyhangar.server.db.tools import DatabaseToolError, copy_database
    from comfyhangar.server.settings import load_settings

    try:
        target = load_settings(database_url=to).effective_database_url
    except Exception as exc:  # noqa: BLE001 - SettingsError names the variable; say --to
        raise fail(f"--to: {str(exc).splitlines()[-1].split(': ', 1)[-1]}") from None
    origin = source or _database_url()

    def progress(table: str, rows: int) -> None:
        err().print(f"  {table}: {rows:,} row(s)", highlight=False)

    try:
        counts = asyncio.run(copy_database(origin, target, progress=progress))
    except DatabaseToolError as exc:
        raise fail(str(exc)) from None
    total = sum(counts.values())
    out().print(
        f"copied {total:,} row(s) in {len(counts)} table(s); point HANGAR_DATABASE_URL at the "
        "new database and start the server",
        highlight=False,
    )
