"""SSE fan-out: how long one event takes to reach 500 clients of `/api/v1/events`.

    uv run python -m bench.sse_fanout [--clients 500] [--events 30] [--interval 0.5]

Seeds deployments (stopped, no pod), starts `uvicorn` with the app in its own process, connects
500 streaming clients (httpx, one asyncio task each, all in this process), then terminates one
deployment every `--interval` seconds through the API. Each terminate commits events in the
server (`deployment_requested`, `deployment_state`) and the reconciler adds more (the state
reaching `terminated`); every event any client sees is measured.

Latency = the client's receipt time minus the event's `time` (set when the row is inserted,
just before its transaction commits, so the figure slightly overstates commit-to-receipt).
Both processes read the same wall clock. Target (issue 3): p99 < 500 ms. Prints a table and
appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import defaultdict
from datetime import datetime

import httpx

from bench._common import (
    Row,
    backend,
    data_directory,
    database_url,
    machine,
    record,
    seed_deployments,
    server_process,
)

TARGET_P99_MS = 500.0


class Receipts:
    """What every client received: event id -> receipt delays (seconds), and the event times."""

    def __init__(self) -> None:
        self.delays: dict[int, list[float]] = defaultdict(list)
        self.types: dict[int, str] = {}
        self.connected = 0
        self.failures: list[str] = []


async def _client(http: httpx.AsyncClient, receipts: Receipts, stop: asyncio.Event) -> None:
    try:
        async with http.stream("GET", "/api/v1/events") as stream:
            if stream.status_code != 200:
                receipts.failures.append(f"HTTP {stream.status_code}")
                return
            receipts.connected += 1
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    received = time.time()
                    event = json.loads(line[5:])
                    sent = _parse_time(event["time"])
                    receipts.delays[event["id"]].append(received - sent)
                    receipts.types[event["id"]] = event["type"]
                if stop.is_set():
                    return
    except httpx.HTTPError as exc:
        if not stop.is_set():
            receipts.failures.append(f"{type(exc).__name__}: {exc}")


def _parse_time(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--events", type=int, default=30, help="terminate requests to send")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between them")
    parser.add_argument("--deployments", type=int, default=200, help="rows in the database")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server.log")
    args = parser.parse_args()
    machine_info = machine()  # before the load, so its load average is everyone else's

    receipts = Receipts()
    with data_directory(keep=args.keep) as data_dir:
        url = database_url(data_dir)
        ids = await seed_deployments(url, max(args.deployments, 4 * args.events))
        # The seed mixes states; terminate only the stopped ones (no pod, so no RunPod calls).
        targets = [i for n, i in enumerate(ids) if n % 4 in (0, 1)][: args.events]
        with server_process(data_dir, url) as base:
            stop = asyncio.Event()
            tasks = []
            connect_started = time.perf_counter()
            streams = httpx.AsyncClient(
                base_url=base,
                timeout=httpx.Timeout(10, read=None),
                limits=httpx.Limits(max_connections=args.clients, max_keepalive_connections=0),
            )
            for start in range(0, args.clients, 50):  # connect in waves of 50
                for _ in range(min(50, args.clients - start)):
                    tasks.append(asyncio.create_task(_client(streams, receipts, stop)))
                await asyncio.sleep(0.2)
            async with asyncio.timeout(60):
                while receipts.connected + len(receipts.failures) < args.clients:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            connect_s = time.perf_counter() - connect_started
            print(f"{receipts.connected} clients connected in {connect_s:.1f} s")
            await asyncio.sleep(1.0)  # let every stream settle

            send_latency: list[float] = []
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                for dep_id in targets:
                    started = time.perf_counter()
                    response = await http.delete(f"/api/v1/deployments/{dep_id}")
                    send_latency.append(time.perf_counter() - started)
                    assert response.status_code == 202, response.text
                    await asyncio.sleep(args.interval)
            await asyncio.sleep(3.0)  # the reconciler's follow-up events, and stragglers
            stop.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await streams.aclose()

    all_delays = [d for delays in receipts.delays.values() for d in delays]
    last_client = [max(delays) for delays in receipts.delays.values()]
    complete = sum(1 for delays in receipts.delays.values() if len(delays) == receipts.connected)
    rows = [
        Row.of(
            "event -> each client",
            all_delays,
            f"{len(receipts.delays)} events x {receipts.connected} clients",
        ),
        Row.of(
            "event -> last of the clients",
            last_client,
            f"{complete}/{len(receipts.delays)} events reached every client",
        ),
        Row.of("DELETE request (while streaming)", send_latency, "terminate, 202"),
    ]
    types = sorted(set(receipts.types.values()))
    setup = (
        f"{args.clients} SSE clients on /api/v1/events ({receipts.connected} connected in "
        f"{connect_s:.1f} s, {len(receipts.failures)} failed), {len(targets)} terminates "
        f"{args.interval:g} s apart through the API -> {len(receipts.delays)} events "
        f"({', '.join(types)}); {backend(url)}; one uvicorn process, clients in one process"
    )
    p99 = rows[0].p99_ms
    verdict = f"Target p99 < {TARGET_P99_MS:.0f} ms (event to each client): " + (
        f"met ({p99:.0f} ms)."
        if p99 < TARGET_P99_MS
        else f"missed by {p99 - TARGET_P99_MS:.0f} ms ({p99:.0f} ms)."
    )
    if receipts.failures:
        verdict += f" Client failures: {sorted(set(receipts.failures))[:3]}."
    record("SSE fan-out", setup, rows, verdict, machine_info)


if __name__ == "__main__":
    asyncio.run(main())
