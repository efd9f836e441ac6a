"""docs/operations.md: its backup, restore and copy commands, run exactly as written.

Each fenced block after an `<!-- ops-test: NAME -->` marker is run with bash, with the variables
the doc names set, against real databases and a real server process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from comfyhangar.server.db import (
    Deployment,
    Event,
    append_event,
    make_engine,
    make_sessionmaker,
    migrate,
)
from comfyhangar.server.schemas.events import EventType
from tests.support.databases import fresh_postgres_database, postgres_base_url
from tests.support.servers import free_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
BLOCK = re.compile(r"<!-- ops-test: (?P<name>[\w-]+) -->\s*```sh\n(?P<body>.*?)```", re.S)


def doc_command(name: str) -> str:
    blocks = {m["name"]: m["body"] for m in BLOCK.finditer(DOC.read_text())}
    assert name in blocks, f"docs/operations.md has no ops-test block {name!r}"
    return blocks[name]


def run_doc(
    name: str, env: dict[str, str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)  # `comfyhangar` of this environment
    full = {k: v for k, v in os.environ.items() if k != "HANGAR_DATABASE_URL"}
    full.update(env, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", doc_command(name)],
        env=full, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, f"{name}: {result.stdout}\n{result.stderr}"
    return result


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def seed(url: str, names: list[str]) -> None:
    """Deployments with an event each, as a server would have written them."""
    await migrate(url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for name in names:
                dep = Deployment(
                    id=uuid.uuid4().hex, name=name, spec={"gpu": {"id": "x"}},
                    desired_state="running", state="pending",
                )  # fmt: skip
                session.add(dep)
                await session.flush()
                await append_event(
                    session,
                    EventType.DEPLOYMENT_CREATED,
                    deployment_id=dep.id,
                    data={"name": name, "gpu": "x", "gpu_count": 1},
                )
    finally:
        await engine.dispose()


async def contents(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            deps = (await session.scalars(select(Deployment).order_by(Deployment.id))).all()
            events = (await session.scalars(select(Event).order_by(Event.id))).all()
            return {
                "deployments": [(d.id, d.name, d.spec, d.created_at) for d in deps],
                "events": [(e.id, e.type, e.deployment_id, e.created_at) for e in events],
            }
    finally:
        await engine.dispose()


class Server:
    """`comfyhangar serve` on a data directory, as a user runs it."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HANGAR_DATA_DIR": str(data_dir), "HANGAR_PORT": str(self.port)}
        env.pop("HANGAR_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "comfyhangar", "serve"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, self.stderr()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def stderr(self) -> str:
        return self.process.stderr.read().decode() if self.process.stderr else ""

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.mark.slow
def test_sqlite_backup_while_serving_and_restore_after_losing_the_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    backup = tmp_path / "backups" / "hangar-backup.db"
    env = {"HANGAR_DATA_DIR": str(data), "BACKUP": str(backup)}
    server = Server(data)
    try:
        created = httpx.post(
            f"{server.base}/api/v1/deployments",
            json={"name": "kept", "gpu": {"id": "NVIDIA GeForce RTX 4090"}},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        run_doc("sqlite-backup", env)  # while the server runs and writes
    finally:
        server.stop()
    assert backup.stat().st_mode & 0o777 == 0o600
    again = run_doc("sqlite-backup", env, check=False)
    assert again.returncode == 1, "a backup is never overwritten"
    assert "exists" in again.stderr

    for suffix in ("", "-wal", "-shm"):  # the disk that held the database is gone
        (data / f"hangar.db{suffix}").unlink(missing_ok=True)
    run_doc("sqlite-restore", env)

    server = Server(data)
    try:
        listed = httpx.get(f"{server.base}/api/v1/deployments", timeout=10).json()
        assert [d["name"] for d in listed["deployments"]] == ["kept"]
        assert listed["deployments"][0]["id"] == created.json()["id"]
    finally:
        server.stop()


@pytest.mark.postgres
async def test_postgres_backup_and_restore_into_a_new_database(
    tmp_path: Path, postgres_url: str
) -> None:
    await seed(postgres_url, ["one", "two"])
    backup = tmp_path / "hangar.dump"
    run_doc("pg-backup", {"DATABASE": libpq(postgres_url), "BACKUP": str(backup)})
    async with fresh_postgres_database(postgres_base_url()) as restored:
        run_doc("pg-restore", {"NEW_DATABASE": libpq(restored), "BACKUP": str(backup)})
        assert await contents(restored) == await contents(postgres_url)
        assert len((await contents(restored))["deployments"]) == 2


@pytest.mark.postgres
async def test_copy_from_sqlite_to_postgres_keeps_every_row_and_id(
    tmp_path: Path, postgres_url: str
) -> None:
    data = tmp_path / "data"
    sqlite = f"sqlite+aiosqlite:///{data / 'hangar.db'}"
    await seed(sqlite, ["alpha", "beta", "gamma"])
    env = {"HANGAR_DATA_DIR": str(data), "NEW_URL": postgres_url}
    run_doc("copy-to-postgres", env)
    copied, original = await contents(postgres_url), await contents(sqlite)
    assert copied == original
    assert len(copied["events"]) == 3

    # New events continue after the copied ids (the sequence was moved past them).
    engine = make_engine(postgres_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await append_event(session, EventType.ERROR, data={"message": "after the copy"})
        async with make_sessionmaker(engine)() as session:
            newest = (await session.execute(select(func.max(Event.id)))).scalar_one()
        assert newest == max(e[0] for e in original["events"]) + 1
    finally:
        await engine.dispose()

    refused = run_doc("copy-to-postgres", env, check=False)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    after = await contents(postgres_url)  # untouched: the copy and the one new event
    assert after["deployments"] == original["deployments"]
    assert len(after["events"]) == len(original["events"]) + 1
