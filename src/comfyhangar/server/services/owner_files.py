"""Files only their owner may read: the admin token file, the secret key, the data directory."""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY_DIR = 0o700
OWNER_ONLY_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def owner_only_dir(path: Path) -> None:
    """Create `path` (and parents) if missing; make it readable by its owner only."""
    path.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(OWNER_ONLY_DIR)


def write_owner_only(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a temporary file renamed over it), mode 0600 from
    the first byte: never readable by anyone else, never half-written."""
    path.parent.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
    try:
        os.fchmod(fd, OWNER_ONLY_FILE)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_if_exists(path: Path) -> str | None:
    """The file's text without surrounding whitespace, or None when it is missing."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def owner_only_sqlite(database: Path) -> None:
    """Make the SQLite file (created empty if missing) and its `-wal`, `-shm` and `-journal`
    companions owner-only. SQLite gives the companions it creates the database file's mode,
    so a database made 0600 keeps them 0600."""
    owner_only_dir(database.parent)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, OWNER_ONLY_FILE))
    for path in (database, *(database.with_name(database.name + s) for s in SQLITE_COMPANIONS)):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(OWNER_ONLY_FILE)
        except FileNotFoundError:
            continue
