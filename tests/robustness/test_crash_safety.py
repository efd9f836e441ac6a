"""SIGKILL the server at random points of deploy, stop, start and terminate; nothing is lost.

The RunPod emulator runs in this process on a real port (its pods outlive every server process),
with time sped up and some create responses lost on the way back. The server is a real
`comfyhangar serve` subprocess, killed with SIGKILL (no shutdown code runs) at a seeded random
moment after each request, then started again on the same database. At the end every deployment
must have converged to what was last asked, with exactly one pod ever made per deployment, no pod
the server does not know, and an event stream that lost nothing across all the restarts.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from comfyhangar.server.db import make_engine
from comfyhangar.server.db.models import Event
from tests.robustness.support import (
    Emulator,
    EventReader,
    ServerProcess,
    counted_emulator,
    deployment_body,
    live_pods_by_tag,
    server_env,
    tag_of,
)
from tests.server.conftest import read_events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

DEPLOYMENTS = 5
FINAL_STATE = {"running": "ready", "stopped": "stopped", "terminated": "terminated"}


class DuplicateWatch:
    """Samples the emulator every few ms: no deployment may ever have two live pods."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator.emu
        self.samples = 0
        self.duplicates: list[tuple[str, list[str]]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            for tag, ids in live_pods_by_tag(self.emu).items():
                if tag is not None and len(ids) > 1:
                    self.duplicates.append((tag, ids))
            self.samples += 1
            await asyncio.sleep(0.02)


async def act(
    http: httpx.AsyncClient, rng: random.Random, asked: dict[str, str], i: int, kills: int
) -> list[str]:
    """The requests of round `i`: deploys first, then stops and starts, terminates late."""
    if len(asked) < DEPLOYMENTS:
        batch = min(2, DEPLOYMENTS - len(asked))
        for _ in range(batch):
            response = await http.post(
                "/api/v1/deployments", json=deployment_body(f"crash-{len(asked)}")
            )
            assert response.status_code == 201, response.text
            asked[response.json()["id"]] = "running"
        return ["deploy"] * batch
    done = []
    for _ in range(1 if rng.random() < 0.7 else 2):
        alive = sorted(d for d, want in asked.items() if want != "terminated")
        dep_id = rng.choice(alive)
        terminated = DEPLOYMENTS - len(alive)
        # Terminate late (at least once), and keep running and stopped ones to the end.
        late = i >= kills - 4 and terminated < 2
        if late and (rng.random() < 0.5 or (i == kills - 1 and terminated == 0)):
            what = "terminate"
            response = await http.delete(f"/api/v1/deployments/{dep_id}")
        else:
            what = "stop" if asked[dep_id] == "running" else "start"
            response = await http.post(f"/api/v1/deployments/{dep_id}/{what}")
        assert response.status_code == 202, response.text
        asked[dep_id] = {"stop": "stopped", "start": "running", "terminate": "terminated"}[what]
        done.append(what)
    return done


async def converge(http: httpx.AsyncClient, asked: dict[str, str], timeout: float) -> None:
    """Wait until every deployment is in the final state of what was last asked."""
    states: dict[str, str] = {}
    try:
        async with asyncio.timeout(timeout):
            while True:
                body = (await http.get("/api/v1/deployments")).json()
                states = {d["id"]: d["state"] for d in body["deployments"]}
                if all(states.get(d) == FINAL_STATE[want] for d, want in asked.items()):
                    return
                await asyncio.sleep(0.2)
    except TimeoutError:
        wanted = {d: FINAL_STATE[w] for d, w in asked.items()}
        raise AssertionError(f"did not converge: asked {wanted}, got {states}") from None


async def last_event_id(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.max(Event.id)))).scalar() or 0)
    finally:
        await engine.dispose()


async def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path
) -> None:
    on_postgres = database_url.startswith("postgresql")
    kills = 8 if on_postgres else 20  # PostgreSQL: fewer, to stay in the CI time budget
    rng = random.Random(20261126)
    async with counted_emulator(
        speed=20.0, provisioning_s=3.0, starting_s=5.0, simulated_setup_s=15.0, seed=7
    ) as emulator:
        faults = emulator.emu.faults
        faults.lost_create_modes = ("drop", "gateway")
        server = ServerProcess(
            "hangar",
            server_env(tmp_path, emulator.base_url, HANGAR_DATABASE_URL=database_url),
            tmp_path,
        )
        watch = DuplicateWatch(emulator)
        watch.start()
        reader = EventReader(server.url)
        asked: dict[str, str] = {}
        done: list[str] = []
        startup = 0.0
        try:
            for i in range(kills):
                # Half the creates lose their response for the first rounds.
                faults.lose_create_responses = 0.5 if i < kills // 2 else 0.0
                t0 = time.monotonic()
                await server.start()
                startup += time.monotonic() - t0
                if i == 0:
                    reader.start()
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                    done.extend(await act(http, rng, asked, i, kills))
                # Kill right away (the reconciler is just waking) or a little later (mid-action).
                await asyncio.sleep(0.0 if rng.random() < 0.2 else rng.uniform(0.05, 1.5))
                server.kill()
            faults.lose_create_responses = 0.0
            t0 = time.monotonic()
            await server.start()
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                await converge(http, asked, timeout=90)
                deployments = {
                    d["id"]: d
                    for d in (await http.get("/api/v1/deployments")).json()["deployments"]
                }
            print(f"startups {startup:.1f}s; converged in {time.monotonic() - t0:.1f}s")
            await asyncio.sleep(1.0)  # a few more cycles: nothing may move once converged
            newest = await last_event_id(database_url)
            await reader.wait_for(newest)
            whole = await read_events(server.url, newest)
        finally:
            await reader.stop()
            await watch.stop()
            server.stop()

        assert server.starts == kills + 1
        assert {"deploy", "stop", "start", "terminate"} <= set(done), done
        assert set(deployments) == set(asked), "the server knows exactly the deployments made"
        for dep_id, want in asked.items():
            assert deployments[dep_id]["state"] == FINAL_STATE[want]
            assert deployments[dep_id]["desired_state"] == want

        # No duplicate: never two live pods of one deployment, and one pod ever per deployment.
        assert watch.samples > 100
        assert watch.duplicates == [], watch.duplicates[:5]
        made = Counter(tag_of(p) for p in emulator.emu.all_pods)
        assert set(made) <= set(asked), made
        assert all(n == 1 for n in made.values()), made
        # Every deployment meant to exist got its pod; one terminated before its create was
        # sent may have none (that create is then never sent).
        unmade = {d for d in asked if d not in made}
        assert all(asked[d] == "terminated" for d in unmade), (unmade, asked)
        assert len(emulator.counter.creates()) >= len(made)

        # No orphan: every live pod belongs to a deployment that wants it running or stopped,
        # and is that deployment's pod, in the matching RunPod status.
        live = {p["id"]: p for p in emulator.emu.pods}
        for pod in live.values():
            dep_id = tag_of(pod)
            assert dep_id in asked, f"orphan pod {pod['id']}"
            assert asked[dep_id] in ("running", "stopped"), f"{pod['id']} should be gone"
            assert deployments[dep_id]["pod"]["id"] == pod["id"]
            assert pod["status"] == ("RUNNING" if asked[dep_id] == "running" else "EXITED")
        alive = {d for d, want in asked.items() if want != "terminated"}
        assert {tag_of(p) for p in live.values()} == alive

        # No lost event: the stream a client followed through every kill and reconnect is the
        # same as a fresh read of the whole log, ids strictly increasing, nothing twice.
        ids = [e["id"] for e in whole]
        assert ids == sorted(set(ids))
        assert ids[-1] == newest
        followed = [e["id"] for e in reader.events if e["id"] <= newest]
        assert followed == ids, "a client resuming by Last-Event-ID saw another stream"
        assert reader.reconnects >= kills
        for dep_id, want in asked.items():
            mine = [e for e in whole if e["deployment_id"] == dep_id]
            assert mine[0]["type"] == "deployment_created"
            states = [e["data"]["state"] for e in mine if e["type"] == "deployment_state"]
            assert states[-1] == FINAL_STATE[want], (dep_id, states)
            created = [e for e in mine if e["type"] == "pod_created"]
            assert len({e["pod_id"] for e in created}) <= 1, created
        assert not [line for line in server.errors() if "Traceback" in line], server.tail(80)
