"""List and detail latency: 1,000 deployments, 50 concurrent clients, a real server process.

    uv run python -m bench.list_latency [--deployments 1000] [--clients 50] [--seconds 10]

Seeds the database directly (SQLAlchemy core inserts), starts `uvicorn` with the app in its own
process (embedded emulator, default reconcile interval), then runs six phases of 50 clients:

1. `GET /api/v1/deployments` (all 1,000), back to back (closed loop, no pause): saturation;
2. `GET /api/v1/deployments?limit=50` (a page), closed loop;
3. `GET /api/v1/deployments/{id}`, random ids, closed loop;
4. each client once a second, half page, half detail;
5. each client once a second, half full list, half detail;
6. each client once a second, the full list: what the dashboard and `comfyhangar list` do
   (both ask for every deployment; the API's default is all of them).

A closed loop measures saturation: latency there is clients / throughput (Little's law).

Target (issue 3): p99 < 50 ms with each client listing once a second (phases 4-6); the
closed loops are reported for throughput. Prints a table and appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

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

TARGET_P99_MS = 50.0


async def _client(
    http: httpx.AsyncClient,
    paths: list[str],
    until: float,
    pause_s: float,
    out: list[float],
    errors: list[str],
    rng: random.Random,
) -> None:
    if pause_s:
        await asyncio.sleep(rng.random() * pause_s)  # spread the pollers over the second
    while time.perf_counter() < until:
        path = rng.choice(paths)
        started = time.perf_counter()
        response = await http.get(path)
        await response.aread()
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            errors.append(f"{path}: {response.status_code} {response.text[:200]}")
        else:
            out.append(elapsed)
        if pause_s:
            await asyncio.sleep(max(0.0, pause_s - elapsed))


async def phase(
    base: str, paths: list[str], clients: int, seconds: float, pause_s: float, seed: int
) -> tuple[list[float], list[str], float]:
    samples: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        for path in paths[:3]:  # warm up: connections, caches, the first-request imports
            await (await http.get(path)).aread()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(
                _client(http, paths, until, pause_s, samples, errors, random.Random(seed + n))
                for n in range(clients)
            )
        )
        wall = time.perf_counter() - started
    return samples, errors, wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--page", type=int, default=50, help="limit of the paged list")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="phase 3, per client")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server.log")
    args = parser.parse_args()
    machine_info = machine()  # before the load, so its load average is everyone else's

    with data_directory(keep=args.keep) as data_dir:
        url = database_url(data_dir)
        ids = await seed_deployments(url, args.deployments)
        with server_process(data_dir, url) as base:
            async with httpx.AsyncClient(timeout=60) as http:
                probe = await http.get(f"{base}/api/v1/deployments")
            size_kb = len(probe.content) / 1024
            listed = len(probe.json()["deployments"])
            assert listed == args.deployments, listed

            rows: list[Row] = []
            misses: list[str] = []
            saturation: list[str] = []
            details = [f"/api/v1/deployments/{i}" for i in ids]
            page = f"/api/v1/deployments?limit={args.page}"
            plans = [
                ("full list (all items), closed loop", ["/api/v1/deployments"], 0.0),
                (f"list page (limit={args.page}), closed loop", [page], 0.0),
                ("detail, closed loop", details, 0.0),
                (
                    f"page or detail, each client every {args.poll_interval:g} s",
                    [page] * len(details) + details,
                    args.poll_interval,
                ),
                (
                    f"full list or detail, each client every {args.poll_interval:g} s",
                    ["/api/v1/deployments"] * len(details) + details,
                    args.poll_interval,
                ),
                (
                    f"full list, each client every {args.poll_interval:g} s (dashboard, CLI)",
                    ["/api/v1/deployments"],
                    args.poll_interval,
                ),
            ]
            for n, (name, paths, pause) in enumerate(plans):
                samples, errors, wall = await phase(
                    base, paths, args.clients, args.seconds, pause, seed=1000 * n
                )
                row = Row.of(
                    name, samples, f"{len(samples) / wall:.0f} req/s; {len(errors)} errors"
                )
                rows.append(row)
                print(row, *sorted(set(errors))[:5], sep="\n  ")
                if pause and row.p99_ms >= TARGET_P99_MS:  # the target is about polling
                    misses.append(f"{name}: p99 {row.p99_ms:.0f} ms")
                elif not pause:
                    saturation.append(f"{name}: {len(samples) / wall:.0f} req/s")

    setup = (
        f"{args.deployments} deployments ({backend(url)}), list response {size_kb:.0f} kB "
        f"({listed} items), {args.clients} concurrent clients (httpx, one process), "
        f"{args.seconds:g} s per phase, one uvicorn process (reconciler on, embedded emulator)"
    )
    verdict = f"Target p99 < {TARGET_P99_MS:.0f} ms, each client once a second: " + (
        "met in every polling phase." if not misses else "missed: " + "; ".join(misses) + "."
    )
    verdict += " Closed loops (saturation, not the target): " + "; ".join(saturation) + "."
    record("List latency", setup, rows, verdict, machine_info)


if __name__ == "__main__":
    asyncio.run(main())
