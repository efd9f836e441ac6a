"""Shared pieces of the benchmarks: a real server process, seeding, percentiles, the record.

The server under test is a separate `uvicorn` process (`create_app` as a factory, settings from
`HANGAR_*` variables), so the load generator and the server do not share a CPU core or an
event loop. SQLite by default; `HANGAR_BENCH_DATABASE_URL=postgresql+asyncpg://...` runs on
PostgreSQL (the database must exist and be empty, or hold only an earlier bench's rows).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from comfyhangar.server.db import make_engine, migrate
from comfyhangar.server.db.models import Base, Deployment, Event
from comfyhangar.server.db.models import Pod as PodRow

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
DB_ENV = "HANGAR_BENCH_DATABASE_URL"


def database_url(data_dir: Path) -> str:
    """The bench database: `HANGAR_BENCH_DATABASE_URL`, or a SQLite file in `data_dir`."""
    return os.environ.get(DB_ENV) or f"sqlite+aiosqlite:///{data_dir / 'hangar.db'}"


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def data_directory(*, keep: bool) -> Iterator[Path]:
    """A throwaway data directory (printed), removed afterwards unless `keep` (`--keep`)."""
    data_dir = Path(tempfile.mkdtemp(prefix="hangar-bench-"))
    print(f"data dir: {data_dir}")
    try:
        yield data_dir
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def server_process(data_dir: Path, url: str, **env: str) -> Iterator[str]:
    """Run the ComfyHangar server (embedded emulator, default intervals) in its own process."""
    port = free_port()
    environ = {
        **os.environ,
        "HANGAR_DATA_DIR": str(data_dir),
        "HANGAR_DATABASE_URL": url,
        "HANGAR_LOG_LEVEL": "warning",
        **env,
    }
    environ.pop("HANGAR_RUNPOD_API_KEY", None)
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "comfyhangar.server.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}); see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in 60 s; see {log.name}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


STATE_MIX = (
    # (state, desired, has a (gone) pod, reason): states the reconciler leaves as they are,
    # so the numbers measure the API, not a thousand simulated pods being created.
    ("stopped", "stopped", False, None),
    ("stopped", "stopped", False, None),
    ("failed", "stopped", True, "the pod disappeared from RunPod"),
    ("terminated", "terminated", True, None),
)


async def seed_deployments(url: str, count: int, *, history: int = 3) -> list[str]:
    """Insert `count` deployments (with pod rows and `history` state events each) directly."""
    await migrate(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    deployments: list[dict[str, Any]] = []
    pods: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(count):
        state, desired, has_pod, reason = STATE_MIX[n % len(STATE_MIX)]
        dep_id = uuid.uuid4().hex
        created = now - timedelta(minutes=count - n)
        pod_id = f"bench{n:06d}" if has_pod else None
        deployments.append(
            {
                "id": dep_id,
                "name": f"bench-{n:04d}",
                "spec": {
                    "name": f"bench-{n:04d}",
                    "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1},
                    "fallback_gpu_ids": [],
                    "cloud": "SECURE",
                    "data_center_ids": [],
                    "container_disk_gb": 50,
                    "volume_gb": 100,
                    "network_volume_id": None,
                    "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404",
                    "manifest": {"models": [], "custom_nodes": []},
                    "env": {},
                },
                "desired_state": desired,
                "state": state,
                "state_reason": reason,
                "created_at": created,
                "updated_at": created,
                "version": 1,
                "pod_id": pod_id,
                "restart_requested": False,
                "setup_ready": False,
                "setup": {},
            }
        )
        if pod_id:
            pods.append(
                {
                    "id": pod_id,
                    "deployment_id": dep_id,
                    "name": f"hangar-bench-{n:04d}",
                    "status": "TERMINATED",
                    "gpu_type_id": "NVIDIA GeForce RTX 4090",
                    "gpu_count": 1,
                    "cloud": "SECURE",
                    "data_center_id": "EU-RO-1",
                    "cost_per_hour": 0,
                    "snapshot": {},
                    "first_seen_at": created,
                    "last_seen_at": created,
                    "gone_at": created + timedelta(seconds=30),
                }
            )
        for h, step in enumerate(("pending", "creating", state)[:history]):
            events.append(
                {
                    "created_at": created + timedelta(seconds=h),
                    "type": "deployment_state",
                    "deployment_id": dep_id,
                    "pod_id": pod_id,
                    "data": {"state": step, "previous": None, "reason": None},
                }
            )
    try:
        async with engine.begin() as conn:
            # A rerun on the same database starts from the same data.
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
            for table, rows in ((Deployment, deployments), (PodRow, pods), (Event, events)):
                for start in range(0, len(rows), 500):
                    await conn.execute(insert(table), rows[start : start + 500])
    finally:
        await engine.dispose()
    return [d["id"] for d in deployments]


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Row:
    """One line of a result table."""

    name: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    extra: str = ""

    @classmethod
    def of(cls, name: str, seconds: Sequence[float], extra: str = "") -> Row:
        ms = sorted(s * 1000 for s in seconds)
        return cls(
            name,
            len(ms),
            percentile(ms, 50),
            percentile(ms, 95),
            percentile(ms, 99),
            ms[-1] if ms else float("nan"),
            extra,
        )


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| measurement | n | p50 ms | p95 ms | p99 ms | max ms | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.count} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.max_ms:.1f} | {r.extra} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """nproc, memory, CPU, Python, OS and the load average now: enough to compare runs."""
    mem_gb = float("nan")
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.release()})"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}, {mem_gb:.1f} GB RAM, {cpu}, "
        f"Python {platform.python_version()}, {os_name}; load average before the run {load}"
    )


def record(title: str, setup: str, rows: Sequence[Row], verdict: str, machine_info: str) -> str:
    """Print the result table and append it, with machine and date, to bench/RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"\n## {title}: {stamp}\n\n"
        f"- machine: {machine_info}\n"
        f"- setup: {setup}\n\n"
        f"{table(rows)}\n\n"
        f"{verdict}\n"
    )
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nAppended by the scripts in `bench/` (see `bench/README.md`). "
            "Newest last.\n"
        )
    with RESULTS.open("a") as out:
        out.write(text)
    print(text)
    return text
