"""Load: 1,000 concurrent creates (one name, then distinct names) and 1,000 concurrent deletes.

    uv run python -m bench.load_deploys [--requests 1000] [--health-interval 0.5]

Starts `uvicorn` with the app in its own process on the simulated cloud (embedded emulator,
default intervals) and an empty database, then, from this process:
1. `--requests` creates at once, all with the same name: exactly one may be a 201, the others
   409 `name_taken` naming it;
2. `--requests` creates at once with distinct names;
3. a delete of every deployment made, all at once;
while a poller asks `/api/v1/health` every `--health-interval` s. A 503 is sent again after
its `Retry-After` (as a client told to retry does); every answer is counted by status. Then it
waits until every deployment is `terminated` and the account has no live pod left.

What must hold (issue 17): 0 responses of 500 (every answer a 2xx, a 409 or a 503 with
Retry-After), and 0 deployments or pods left running at the end. Prints a table and appends it
to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench._common import (
    Row,
    backend,
    data_directory,
    database_url,
    machine,
    record,
    server_process,
)

GPU = "NVIDIA GeForce RTX 4090"
SETTLE_TIMEOUT_S = 900.0


@dataclass
class Phase:
    """The answers of one phase: every status seen (retries included) and each request's time."""

    name: str
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)  # 5xx other than a 503 with Retry-After
    retries: int = 0

    def note(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        retry_after = response.headers.get("retry-after", "")
        if response.status_code >= 500 and not (
            response.status_code == 503 and retry_after.isdigit()
        ):
            self.bad.append(f"{response.status_code} {response.text[:200]}")

    def summary(self) -> str:
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return f"{counts}; {self.retries} retries after a 503"


async def _until_served(
    phase: Phase, send: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response:
    """Send until the answer is not a 503, waiting its Retry-After; time the whole request."""
    started = time.perf_counter()
    while True:
        try:
            response = await send()
        except httpx.HTTPError as exc:  # a dropped connection counts as a failure
            phase.bad.append(f"{type(exc).__name__}: {exc}")
            phase.statuses[0] += 1
            raise
        phase.note(response)
        if response.status_code != 503:
            phase.seconds.append(time.perf_counter() - started)
            return response
        phase.retries += 1
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


def _body(name: str) -> dict[str, object]:
    return {"name": name, "gpu": {"id": GPU, "count": 1}, "container_disk_gb": 40, "volume_gb": 60}


async def _burst(
    http: httpx.AsyncClient, phase: Phase, sends: list[Callable[[], Awaitable[httpx.Response]]]
) -> list[httpx.Response | BaseException]:
    results = await asyncio.gather(
        *(_until_served(phase, send) for send in sends), return_exceptions=True
    )
    return list(results)


async def _poll_health(
    http: httpx.AsyncClient, phase: Phase, every: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await http.get("/api/v1/health")
            phase.note(response)
            phase.seconds.append(time.perf_counter() - started)
        except httpx.HTTPError as exc:
            phase.bad.append(f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(every)


async def _left_running(http: httpx.AsyncClient, ids: list[str]) -> tuple[int, int]:
    """(deployments not terminated, live pods of the account), once they reach 0 or time runs out."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        listed = (await http.get("/api/v1/deployments")).json()["deployments"]
        states = {d["id"]: d["state"] for d in listed}
        open_deps = sum(1 for i in ids if states.get(i) != "terminated")
        pods = (await http.get("/api/v1/pods")).json()["pods"]
        live_pods = sum(1 for p in pods if p["status"] != "TERMINATED")
        if (open_deps == 0 and live_pods == 0) or time.monotonic() > deadline:
            return open_deps, live_pods
        await asyncio.sleep(2)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per burst")
    parser.add_argument("--health-interval", type=float, default=0.5)
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server.log")
    args = parser.parse_args()
    machine_info = machine()  # before the load, so its load average is everyone else's
    n = args.requests
    same, distinct, deletes, health = (
        Phase(f"create x{n}, one name"),
        Phase(f"create x{n}, distinct names"),
        Phase(f"delete x{n + 1} (every deployment made)"),
        Phase("GET /health during the bursts"),
    )
    with data_directory(keep=args.keep) as data_dir:
        url = database_url(data_dir)
        with server_process(data_dir, url) as base:
            # Idle connections expire before the server's 5 s keep-alive does: a request sent on a
            # connection the server is closing would fail on the client's side of the race.
            limits = httpx.Limits(
                max_connections=n + 10, max_keepalive_connections=n + 10, keepalive_expiry=2.0
            )
            async with (
                httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as http,
                httpx.AsyncClient(base_url=base, timeout=300) as probe,
            ):
                started = time.perf_counter()
                stop = asyncio.Event()
                poller = asyncio.create_task(
                    _poll_health(probe, health, args.health_interval, stop)
                )
                first = await _burst(
                    http, same, [lambda: http.post("/api/v1/deployments", json=_body("same"))] * n
                )
                second = await _burst(
                    http,
                    distinct,
                    [
                        (lambda i=i: http.post("/api/v1/deployments", json=_body(f"load-{i:04d}")))
                        for i in range(n)
                    ],
                )
                made = [
                    r.json()["id"]
                    for r in (*first, *second)
                    if isinstance(r, httpx.Response) and r.status_code == 201
                ]
                await _burst(
                    http,
                    deletes,
                    [(lambda d=d: http.delete(f"/api/v1/deployments/{d}")) for d in made],
                )
                stop.set()
                await poller
                bursts_s = time.perf_counter() - started
                open_deps, live_pods = await _left_running(http, made)
                settle_s = time.perf_counter() - started - bursts_s
    phases = (same, distinct, deletes, health)
    rows = [Row.of(p.name, p.seconds, p.summary()) for p in phases]
    bad = [b for p in phases for b in p.bad]
    same_created = same.statuses[201]
    setup = (
        f"{n} concurrent POST /deployments with one name, then {n} with distinct names, then "
        f"a DELETE of each of the {len(made)} made, all at once (503s sent again after their "
        f"Retry-After), GET /health every {args.health_interval:g} s meanwhile; real server "
        f"process on the simulated cloud, {backend(url)}, default pool and intervals; bursts "
        f"took {bursts_s:.0f} s, every deployment terminated {settle_s:.0f} s later; times are "
        "per request including its retries"
    )
    verdict = (
        f"Responses of 500 (or any 5xx but a 503 with Retry-After, or a dropped connection): "
        f"{len(bad)}. One-name creates that made a deployment: {same_created} (must be 1). "
        f"Left at the end: {open_deps} deployments not terminated, {live_pods} live pods "
        f"(must be 0 and 0). "
        + ("Met." if not bad and same_created == 1 and open_deps == live_pods == 0 else "MISSED.")
    )
    if bad:
        verdict += f" First failures: {bad[:3]}"
    record("Load: concurrent creates and deletes", setup, rows, verdict, machine_info)


if __name__ == "__main__":
    asyncio.run(main())
