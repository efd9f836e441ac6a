"""Database: migrations at start (one process at a time), models, and the ordered event log."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, update
from sqlalchemy.exc import IntegrityError

from comfyhangar.server.db import (
    Base,
    Deployment,
    Event,
    append_event,
    events_after,
    last_event_id,
    make_engine,
    make_sessionmaker,
    migrate,
)
from comfyhangar.server.db.migrate import alembic_config, current_revision, head_revision
from comfyhangar.server.db.types import UTCDateTime
from comfyhangar.server.schemas.events import EventType

pytestmark = pytest.mark.asyncio
LIVE = {"desired_state": "running", "state": "pending"}


async def test_migrate_creates_schema_at_head_and_is_idempotent(database_url: str) -> None:
    await migrate(database_url)
    await migrate(database_url)  # a second start finds nothing to do
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            revision = await conn.run_sync(current_revision)
        assert {"deployments", "pods", "events", "alembic_version"} <= tables
        assert revision == head_revision()
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without its migration fails here, before it reaches a user's database."""
    await migrate(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_processes_starting_together_migrate_once(database_url: str, tmp_path: Path) -> None:
    """Four processes released at the same instant all start cleanly on one database."""
    go = tmp_path / "go"
    script = (
        "import asyncio, os, sys, time\n"
        "from comfyhangar.server.db import migrate\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n"
        f"asyncio.run(migrate({database_url!r}))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    await asyncio.sleep(1.5)  # let every interpreter import and wait at the gate
    go.touch()
    results = [await asyncio.to_thread(p.communicate, timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revision) == head_revision()
    finally:
        await engine.dispose()


async def test_event_ids_follow_commit_order_under_concurrent_writers(database_url: str) -> None:
    """A reader that follows `id > last seen` never misses an event committed late."""
    await migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    rng = random.Random(7)
    writers_done = asyncio.Event()
    seen: list[int] = []

    async def writer(n: int) -> None:
        async with sessions() as session, session.begin():
            await append_event(session, EventType.ERROR, data={"message": str(n)})
            await asyncio.sleep(rng.uniform(0, 0.02))  # commit at a random later moment

    async def reader() -> None:
        while True:
            finished = writers_done.is_set()
            async with sessions() as session:
                fresh = await events_after(session, seen[-1] if seen else 0)
            seen.extend(e.id for e in fresh)
            if finished and not fresh:
                return
            await asyncio.sleep(0.001)

    try:
        reading = asyncio.create_task(reader())
        for batch in range(6):
            await asyncio.gather(*(writer(batch * 10 + i) for i in range(10)))
        writers_done.set()
        await reading
        async with sessions() as session:
            every = list(await session.scalars(select(Event.id).order_by(Event.id)))
            assert await last_event_id(session) == every[-1]
        assert len(every) == 60
        assert seen == every, "the live reader missed or repeated events"
    finally:
        await engine.dispose()


async def test_events_filter_by_deployment_and_limit(database_url: str) -> None:
    await migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            for i in range(5):
                await append_event(
                    session,
                    EventType.ERROR,
                    deployment_id="a" if i % 2 else "b",
                    data={"message": str(i)},
                )
        async with sessions() as session:
            only_a = await events_after(session, 0, deployment_id="a")
            first_two = await events_after(session, 0, limit=2)
        assert [e.deployment_id for e in only_a] == ["a", "a"]
        assert [e.id for e in first_two] == sorted(e.id for e in first_two)
        assert len(first_two) == 2
    finally:
        await engine.dispose()


async def test_times_are_stored_and_returned_as_utc(database_url: str) -> None:
    await migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    paris = timezone(timedelta(hours=1))
    created = datetime(2026, 11, 26, 13, 0, 0, tzinfo=paris)
    try:
        async with sessions() as session, session.begin():
            session.add(
                Deployment(
                    id="d" * 32,
                    name="x",
                    spec={},
                    desired_state="running",
                    state="pending",
                    created_at=created,
                )
            )
        async with sessions() as session:
            row = await session.get(Deployment, "d" * 32)
        assert row is not None
        assert row.created_at == created
        assert row.created_at.tzinfo == UTC
    finally:
        await engine.dispose()


async def test_naive_datetimes_are_refused(database_url: str) -> None:
    await migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        with pytest.raises(Exception, match="naive datetime"):
            async with sessions() as session, session.begin():
                session.add(
                    Deployment(
                        id="n" * 32,
                        name="x",
                        spec={},
                        desired_state="running",
                        state="pending",
                        created_at=datetime(2026, 1, 1),  # noqa: DTZ001
                    )
                )
    finally:
        await engine.dispose()


async def _upgrade_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def upgrade(sync: Connection) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync
                command.upgrade(config, revision)

            await conn.run_sync(upgrade)
            await conn.commit()
    finally:
        await engine.dispose()


async def test_upgrading_a_database_with_duplicate_live_names_renames_the_later_ones(
    database_url: str,
) -> None:
    """Before names were unique, two live deployments could share one: the upgrade keeps the
    oldest's, renames the others (with an event that says why) and never fails."""
    await _upgrade_to(database_url, "0006")
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        ("a" * 32, "flux", "ready", 0),
        ("b" * 32, "flux", "stopped", 1),
        ("c" * 32, "flux", "terminated", 2),  # terminated: keeps its name, frees it
        ("d" * 32, "flux", "failed", 3),
        ("e" * 32, "flux-2", "ready", 4),  # the first suffix is taken: the next is used
        ("f" * 32, "x" * 40, "ready", 5),
        ("0" * 32, "x" * 40, "pending", 6),  # a long name is cut to fit its suffix
    ]
    try:
        # The table as it was at 0006 (the model has columns of later revisions).
        old_deployments = sa.table(
            "deployments",
            *(sa.column(n) for n in ("id", "name", "desired_state", "state", "version")),
            sa.column("spec", sa.JSON),
            sa.column("restart_requested", sa.Boolean),
            sa.column("setup_ready", sa.Boolean),
            sa.column("setup", sa.JSON),
            *(sa.column(n, UTCDateTime()) for n in ("created_at", "updated_at")),
        )
        async with sessions() as session, session.begin():
            for dep_id, name, state, minutes in rows:
                at = start + timedelta(minutes=minutes)
                await session.execute(
                    old_deployments.insert().values(
                        id=dep_id,
                        name=name,
                        spec={"name": name},
                        desired_state="terminated" if state == "terminated" else "running",
                        state=state,
                        version=1,
                        restart_requested=False,
                        setup_ready=False,
                        setup={},
                        created_at=at,
                        updated_at=at,
                    )
                )
        await migrate(database_url)
        async with sessions() as session:
            names = dict((await session.execute(select(Deployment.id, Deployment.name))).all())
            specs = {d.id: d.spec["name"] for d in await session.scalars(select(Deployment))}
            renamed = list(
                await session.scalars(
                    select(Event).where(Event.type == "deployment_renamed").order_by(Event.id)
                )
            )
        assert names == {
            "a" * 32: "flux",
            "b" * 32: "flux-3",
            "c" * 32: "flux",
            "d" * 32: "flux-4",
            "e" * 32: "flux-2",
            "f" * 32: "x" * 40,
            "0" * 32: "x" * 38 + "-2",
        }
        assert specs == names
        assert [(e.deployment_id, e.data["previous"], e.data["name"]) for e in renamed] == [
            ("b" * 32, "flux", "flux-3"),
            ("d" * 32, "flux", "flux-4"),
            ("0" * 32, "x" * 40, "x" * 38 + "-2"),
        ]
        assert "unique" in renamed[0].data["reason"]
        # From now on the database itself refuses a second live "flux" ...
        with pytest.raises(IntegrityError):
            async with sessions() as session, session.begin():
                session.add(Deployment(id="9" * 32, name="flux", spec={}, **LIVE))
        # ... and takes one once the others are terminated.
        async with sessions() as session, session.begin():
            await session.execute(
                update(Deployment).where(Deployment.name == "flux").values(state="terminated")
            )
            session.add(Deployment(id="9" * 32, name="flux", spec={}, **LIVE))
    finally:
        await engine.dispose()
