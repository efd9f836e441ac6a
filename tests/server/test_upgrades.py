"""Upgrades: migrations run at start; a database a newer ComfyHangar migrated is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from comfyhangar.server.db import make_engine, migrate
from comfyhangar.server.db.migrate import DatabaseTooNew, check_revision, head_revision
from tests.support.servers import free_port

FUTURE_REVISION = "f00dfacefeed"


async def _pretend_a_newer_version_migrated(url: str) -> None:
    await migrate(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE_REVISION}
            )
    finally:
        await engine.dispose()


async def _revision(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return str(
                (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            )
    finally:
        await engine.dispose()


async def test_a_database_from_a_newer_version_is_refused_and_left_alone(database_url: str) -> None:
    await _pretend_a_newer_version_migrated(database_url)
    with pytest.raises(DatabaseTooNew, match=FUTURE_REVISION):
        await check_revision(database_url)
    with pytest.raises(DatabaseTooNew, match="Upgrade ComfyHangar"):
        await migrate(database_url)
    assert await _revision(database_url) == FUTURE_REVISION


async def test_known_and_missing_databases_pass_the_check(
    tmp_path: Path, database_url: str
) -> None:
    await check_revision(f"sqlite+aiosqlite:///{tmp_path / 'not-yet.db'}")
    assert not (tmp_path / "not-yet.db").exists(), "the check creates nothing"
    await migrate(database_url)
    await check_revision(database_url)
    assert await _revision(database_url) == head_revision()


async def test_serve_refuses_a_newer_database_before_listening(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    await _pretend_a_newer_version_migrated(f"sqlite+aiosqlite:///{data / 'hangar.db'}")
    env = {**os.environ, "HANGAR_DATA_DIR": str(data), "HANGAR_PORT": str(free_port())}
    env.pop("HANGAR_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "comfyhangar", "serve"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert FUTURE_REVISION in result.stderr
    assert "Upgrade ComfyHangar" in result.stderr
    assert "Traceback" not in result.stderr
