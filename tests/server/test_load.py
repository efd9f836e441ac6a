"""Under load the server answers every request with a 2xx, a 409 or a 503 with Retry-After,
never a 500, and drops no terminate: SQLite writers queue in-process instead of racing for the
file lock, a request that finds no free pooled connection in time is a clean 503, and /health
answers on its own connection. (bench/load_deploys.py does the same with 1,000 requests.)"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from comfyhangar.core.errors import DatabaseBusy
from comfyhangar.server.db import Event, append_event, make_engine, make_sessionmaker
from comfyhangar.server.db import engine as db_engine
from comfyhangar.server.db import migrate as migrate_db
from comfyhangar.server.db.engine import bounded_write_wait, write_gate
from comfyhangar.server.schemas.events import EventType
from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, running_hangar
from tests.support.databases import sqlite_url

WRITERS = 60
DEPLOYMENTS = 60
# SQLite's busy timeout made short: writers racing for the lock would now fail within it.
SHORT_BUSY_MS = 50


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_MS)


@pytest.mark.usefixtures("short_busy_timeout")
async def test_sqlite_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    """Many write transactions at once, each holding the lock a while: all of them commit."""
    url = sqlite_url(tmp_path)
    await migrate_db(url)
    db = make_engine(url, pool_size=WRITERS, max_overflow=0)
    sessions = make_sessionmaker(db)

    async def writer(n: int) -> None:
        async with sessions() as session, session.begin():
            await append_event(session, EventType.ERROR, data={"message": str(n)})
            await asyncio.sleep(0.01)  # longer in all than the busy timeout allows to wait

    try:
        results = await asyncio.gather(*(writer(n) for n in range(WRITERS)), return_exceptions=True)
        assert [r for r in results if r is not None] == []
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Event)) == WRITERS
    finally:
        await db.dispose()


async def test_a_request_waits_for_its_turn_to_write_within_its_bound_background_work_longer(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path)
    await migrate_db(url)
    db = make_engine(url)
    sessions = make_sessionmaker(db)
    assert write_gate(db) is not None
    try:
        async with sessions() as holder, holder.begin():
            await append_event(holder, EventType.ERROR, data={"message": "held"})
            with bounded_write_wait(0.1), pytest.raises(DatabaseBusy):
                await asyncio.create_task(_one_write(sessions))  # a request: 503
            background = asyncio.create_task(_one_write(sessions))
            await asyncio.sleep(0.3)  # longer than the request's bound
            assert not background.done()
            # The same task opening a second write transaction would wait for itself.
            with pytest.raises(RuntimeError, match="inside another"):
                async with sessions() as nested, nested.begin():
                    pass
        await background  # queued, not failed: it commits once the gate is free
        await _one_write(sessions)
        async with sessions() as session:
            rows = list(await session.scalars(select(Event).order_by(Event.id)))
        assert [r.data["message"] for r in rows] == ["held", "queued", "queued"]
    finally:
        await db.dispose()


async def _one_write(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        await append_event(session, EventType.ERROR, data={"message": "queued"})


async def test_an_exhausted_pool_is_a_503_with_retry_after_and_health_still_answers(
    tmp_path: Path, database_url: str
) -> None:
    settings = fast_settings(
        tmp_path,
        database_url=database_url,
        database_pool_size=1,
        database_pool_timeout_s=0.2,
    )
    async with running_hangar(settings) as hangar:
        runtime = hangar.runtime
        # Take every connection of the pool (1, plus as many again under load).
        held = [await runtime.engine.connect() for _ in range(2)]
        try:
            listed = await hangar.http.get("/api/v1/deployments")
            assert listed.status_code == 503, listed.text
            assert listed.json()["code"] == "database_busy"
            assert int(listed.headers["retry-after"]) >= 1
            created = await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)
            assert created.status_code == 503, created.text
            health = await hangar.http.get("/api/v1/health")
            assert health.status_code == 200
            assert health.json()["database"]["ok"] is True
        finally:
            for connection in held:
                await connection.close()
        assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []
        assert (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).status_code == 201


def _acceptable(response: httpx.Response) -> bool:
    if response.status_code == 503:
        return response.headers.get("retry-after", "").isdigit()
    return response.status_code < 300 or response.status_code == 409


async def _until_accepted(send: Any) -> list[httpx.Response]:
    """Send until the answer is not a 503 (as a client told to retry does); every answer."""
    answers = [await send()]
    while answers[-1].status_code == 503:
        await asyncio.sleep(int(answers[-1].headers["retry-after"]) / 10)
        answers.append(await send())
    return answers


@pytest.mark.usefixtures("short_busy_timeout")
async def test_a_burst_of_terminates_and_reads_drops_nothing(tmp_path: Path) -> None:
    async with running_hangar(fast_settings(tmp_path), timeout=120) as hangar:
        created = await asyncio.gather(
            *(
                hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "name": f"d{n}"})
                for n in range(DEPLOYMENTS)
            )
        )
        assert [r.status_code for r in created] == [201] * DEPLOYMENTS, [r.text for r in created]
        ids = [r.json()["id"] for r in created]
        await hangar.cycles(2)  # pods are being made

        async def terminate(dep_id: str) -> list[httpx.Response]:
            return await _until_accepted(
                lambda: hangar.http.delete(f"/api/v1/deployments/{dep_id}")
            )

        async def read(n: int) -> list[httpx.Response]:
            path = "/api/v1/health" if n % 3 == 0 else "/api/v1/deployments"
            return await _until_accepted(lambda: hangar.http.get(path))

        answers = await asyncio.gather(
            *(terminate(i) for i in ids), *(read(n) for n in range(DEPLOYMENTS))
        )
        every = [r for group in answers for r in group]
        assert [r.text for r in every if not _acceptable(r)] == []
        assert all(group[-1].status_code == 202 for group in answers[:DEPLOYMENTS])
        await _all_terminated(hangar, ids)
        live = [p["id"] for p in hangar.emulator.all_pods if p["status"] != "TERMINATED"]
        assert live == [], "pods left running after their deployments were terminated"


async def _all_terminated(hangar: Hangar, ids: list[str], timeout: float = 60) -> None:
    states: dict[str, str] = {}
    async with asyncio.timeout(timeout):
        while True:
            listed = (await hangar.http.get("/api/v1/deployments")).json()["deployments"]
            states = {d["id"]: d["state"] for d in listed}
            if all(states.get(i) == "terminated" for i in ids):
                return
            await asyncio.sleep(0.1)
