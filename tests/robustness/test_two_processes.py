"""Two `comfyhangar serve` processes on one PostgreSQL database and one RunPod account.

Requests go to process A and process B alternately; both reconcilers see every deployment. The
emulator counts what they ask of RunPod: exactly one create per deployment and one action per
stop, start and terminate asked, so no pod is ever acted on twice. An SSE client connected to B
sees what was done through A promptly (LISTEN/NOTIFY wakes B's stream; the table is the truth).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.robustness.support import (
    EventReader,
    ServerProcess,
    counted_emulator,
    deployment_body,
    server_env,
    tag_of,
)
from tests.support.auth import auth_headers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DEPLOYMENTS = 4


async def wait_states(
    http: httpx.AsyncClient, wanted: dict[str, str], timeout: float = 60.0
) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    try:
        async with asyncio.timeout(timeout):
            while True:
                listed = (await http.get("/api/v1/deployments")).json()["deployments"]
                seen = {d["id"]: d for d in listed}
                if all(seen.get(d, {}).get("state") == s for d, s in wanted.items()):
                    return seen
                await asyncio.sleep(0.1)
    except TimeoutError:
        states = {d: v["state"] for d, v in seen.items()}
        raise AssertionError(f"wanted {wanted}, got {states}") from None


async def seen_by(
    reader: EventReader, predicate: Any, started: float, timeout: float = 10.0
) -> float:
    """Seconds from `started` (monotonic) until `reader` has an event matching `predicate`."""
    async with asyncio.timeout(timeout):
        while not any(predicate(e) for e in reader.events):
            await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_two_processes_never_act_twice_and_share_live_events(
    postgres_url: str, tmp_path: Path
) -> None:
    async with counted_emulator(
        speed=20.0, provisioning_s=3.0, starting_s=5.0, simulated_setup_s=15.0, seed=5
    ) as emulator:
        # B's safety-net read of the event table comes every 60 s: within the test's waits, an
        # event A commits reaches B's stream only through PostgreSQL's NOTIFY.
        servers = [
            ServerProcess(
                name,
                server_env(
                    tmp_path,
                    emulator.base_url,
                    HANGAR_DATABASE_URL=postgres_url,
                    HANGAR_EVENT_POLL_S=poll,
                ),
                tmp_path,
                prewarm=0,
            )
            for name, poll in (("a", "1"), ("b", "60"))
        ]
        a, b = servers
        await asyncio.gather(a.start(), b.start())
        on_b = EventReader(b.url)
        on_b.start()
        clients = [
            httpx.AsyncClient(base_url=s.url, timeout=10, headers=auth_headers()) for s in servers
        ]
        try:
            # Deploy through A and B alternately; B's stream sees A's deployments at once.
            ids: list[str] = []
            latencies = []
            for i in range(DEPLOYMENTS):
                http = clients[i % 2]
                body = deployment_body(f"twin-{i}")
                sent = time.monotonic()
                response = await http.post("/api/v1/deployments", json=body)
                assert response.status_code == 201, response.text
                dep_id = response.json()["id"]
                ids.append(dep_id)
                if i % 2 == 0:
                    latencies.append(
                        await seen_by(
                            on_b,
                            lambda e, d=dep_id: (
                                e["type"] == "deployment_created" and e["deployment_id"] == d
                            ),
                            sent,
                        )
                    )
            await wait_states(clients[0], dict.fromkeys(ids, "ready"))

            # Stop each through the process that did not create it; start one again through A.
            asked = Counter[tuple[str, str]]()
            sent = time.monotonic()
            for i, dep_id in enumerate(ids):
                response = await clients[(i + 1) % 2].post(f"/api/v1/deployments/{dep_id}/stop")
                assert response.status_code == 202
                asked[dep_id, "stop"] += 1
            latencies.append(
                await seen_by(
                    on_b,
                    lambda e: (
                        e["type"] == "deployment_state"
                        and e["deployment_id"] == ids[1]
                        and e["data"]["state"] == "stopping"
                    ),
                    sent,
                )
            )
            await wait_states(clients[1], dict.fromkeys(ids, "stopped"))
            response = await clients[0].post(f"/api/v1/deployments/{ids[0]}/start")
            assert response.status_code == 202
            asked[ids[0], "start"] += 1
            await wait_states(clients[1], {ids[0]: "ready"})

            # Terminate alternately.
            for i, dep_id in enumerate(ids):
                assert (await clients[i % 2].delete(f"/api/v1/deployments/{dep_id}")).is_success
                asked[dep_id, "terminate"] += 1
            final = await wait_states(clients[1], dict.fromkeys(ids, "terminated"))
            await asyncio.sleep(1.0)  # more cycles of both: nothing else may be sent
        finally:
            for http in clients:
                await http.aclose()
            await on_b.stop()
            for server in servers:
                server.stop()

        # One create per deployment, ever; every pod action exactly as often as asked.
        creates = Counter(tag_of(c.body or {}) for c in emulator.counter.creates())
        assert creates == Counter(dict.fromkeys(ids, 1)), creates
        pods = {p["id"]: tag_of(p) for p in emulator.emu.all_pods}
        assert sorted(pods.values()) == sorted(ids)
        done = Counter((pods[pod_id], action) for pod_id, action, _ in emulator.counter.actions())
        assert done == asked, f"asked {dict(asked)}, RunPod got {dict(done)}"
        assert all(status < 300 for _, _, status in emulator.counter.actions())
        assert emulator.emu.pods == []
        assert all(final[d]["pod"] is None for d in ids)

        # Both processes wrote events; B's client saw all of them, in order, once.
        ids_seen = [e["id"] for e in on_b.events]
        assert ids_seen == sorted(set(ids_seen))
        assert {e["type"] for e in on_b.events} >= {
            "deployment_created",
            "pod_created",
            "deployment_state",
            "setup_progress",
            "pod_terminated",
        }
        # Each arrived well within B's 60 s poll (seen_by waits 10 s at most): NOTIFY woke B.
        print(f"A -> B event latencies: {[round(x, 3) for x in latencies]}")
