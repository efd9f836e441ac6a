"""Helpers of the robustness tests: real server processes, a counted emulator, event reading.

- `ServerProcess`: `comfyhangar serve` as a subprocess (start, SIGKILL, restart, wait for health).
- `CountingApp`: ASGI middleware in front of the RunPod emulator that records every request
  (method, path, status, JSON body), so tests can count what the server asked RunPod to do.
- `EventReader`: follows `/api/v1/events` from id 0 and reconnects with `Last-Event-ID` whenever
  the server goes away, so one list holds the stream as a client would have seen it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.runpod.provisioning import DEPLOYMENT_ENV
from tests.support.asgi import read_body
from tests.support.servers import free_port, running_server

API_KEY = "robustness-key"
GPU = "NVIDIA GeForce RTX 4090"
DATA_CENTER = "US-KS-2"  # 16 RTX 4090 in stock by default; we raise it further


@dataclass(frozen=True)
class Call:
    """One request the emulator received."""

    method: str
    path: str
    status: int
    body: Any
    at: float

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD")


class CountingApp:
    """Records every HTTP request to the wrapped app, with its status and JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: list[Call] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw, replay = await read_body(receive)
        status = [0]

        async def keep_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, keep_status)
        finally:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            self.calls.append(
                Call(scope["method"], scope["path"], status[0], body, time.monotonic())
            )

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    def creates(self) -> list[Call]:
        """`POST /v2/pods` requests (whatever their outcome)."""
        return [c for c in self.calls if c.method == "POST" and c.path == "/v2/pods"]

    def actions(self) -> list[tuple[str, str, int]]:
        """(pod id, action, status) of every `POST /v2/pods/{id}/action` and `DELETE`."""
        out = []
        for c in self.calls:
            parts = c.path.split("/")
            if c.method == "POST" and len(parts) == 5 and parts[4] == "action":
                out.append((parts[3], (c.body or {}).get("action", "?"), c.status))
            elif c.method == "DELETE" and len(parts) == 4 and parts[2] == "pods":
                out.append((parts[3], "delete", c.status))
        return out


@dataclass
class Emulator:
    emu: RunPodEmulator
    counter: CountingApp
    base_url: str  # ends in /v2


@contextlib.asynccontextmanager
async def counted_emulator(**config: Any) -> AsyncIterator[Emulator]:
    """A RunPod emulator on a real port in this process, behind a `CountingApp`."""
    emu = RunPodEmulator(EmulatorConfig(api_key=API_KEY, **config))
    emu.set_stock(GPU, DATA_CENTER, 1000)
    emu.set_balance(1e9)
    counter = CountingApp(emu.app)
    async with running_server(counter) as url:
        yield Emulator(emu, counter, f"{url}/v2")


def deployment_body(name: str, **overrides: Any) -> dict[str, Any]:
    """A create request: one GPU in `DATA_CENTER` (plenty of stock there), small disks."""
    return {
        "name": name,
        "gpu": {"id": GPU, "count": 1},
        "data_center_ids": [DATA_CENTER],
        "container_disk_gb": 40,
        "volume_gb": 60,
        **overrides,
    }


def tag_of(pod: dict[str, Any]) -> str | None:
    return (pod.get("env") or {}).get(DEPLOYMENT_ENV)


def live_pods_by_tag(emu: RunPodEmulator) -> dict[str | None, list[str]]:
    """Live (not TERMINATED) pod ids of the emulator, by deployment tag (None: untagged)."""
    out: dict[str | None, list[str]] = {}
    for pod in emu.pods:
        out.setdefault(tag_of(pod), []).append(pod["id"])
    return out


def server_env(data_dir: Path, runpod_url: str | None, **extra: str) -> dict[str, str]:
    """Environment of a `comfyhangar serve` subprocess: fast intervals, our emulator at
    `runpod_url`, or (None) the server's own embedded one, the simulated cloud."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update(
        PYTHONUNBUFFERED="1",
        HANGAR_DATA_DIR=str(data_dir),
        HANGAR_RECONCILE_INTERVAL_S="0.3",
        HANGAR_LEASE_S="3",
        HANGAR_CREATE_SETTLE_S="2",
        HANGAR_LOG_LEVEL="warning",
    )
    if runpod_url is not None:
        env.update(HANGAR_RUNPOD_API_KEY=API_KEY, HANGAR_RUNPOD_API_URL=runpod_url)
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """`python -m comfyhangar serve` on a fixed port; killed with SIGKILL, started again."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    #: Keep this many next processes importing ahead, then waiting on stdin: importing the
    #: server takes seconds, and these tests restart it many times.
    prewarm: int = 2
    proc: subprocess.Popen[bytes] | None = None
    standby: list[subprocess.Popen[bytes]] = field(default_factory=list)
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    async def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until `/api/v1/health` answers."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts} =====\n".encode())
        if self.standby:
            self.proc = self.standby.pop(0)
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"go\n")
            self.proc.stdin.close()
        else:
            self.proc = self._spawn(warm=False)
        while len(self.standby) < self.prewarm:
            self.standby.append(self._spawn(warm=True))
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited at start:\n{self.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/api/v1/health")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not healthy in {timeout}s:\n{self.tail()}")
                await asyncio.sleep(0.05)

    def _spawn(self, *, warm: bool) -> subprocess.Popen[bytes]:
        """`python -m comfyhangar serve --port P`; or, `warm`, the same after the imports are
        done and a line arrives on stdin (importing takes seconds; this test restarts a lot)."""
        serve = ["serve", "--port", str(self.port)]
        if warm:
            code = (
                "import sys, uvicorn, comfyhangar.server.app; from comfyhangar.cli import main; "
                f"sys.stdin.readline(); sys.argv = ['comfyhangar', *{serve!r}]; main()"
            )
            command = [sys.executable, "-c", code]
        else:
            command = [sys.executable, "-m", "comfyhangar", *serve]
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                command,
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.PIPE if warm else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A clean stop (SIGTERM), with SIGKILL if it hangs; the standby process goes too."""
        for standby in self.standby:
            standby.kill()
            standby.wait(timeout=10)
            if standby.stdin is not None:
                standby.stdin.close()
        self.standby.clear()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def errors(self) -> list[str]:
        """Tracebacks and ERROR lines the server logged (a crash safe server logs none)."""
        if not self.log_path.exists():
            return []
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if "Traceback" in line or line.startswith("ERROR")
        ]


class EventReader:
    """Follows `/api/v1/events` from id 0; after a dropped connection, resumes by Last-Event-ID."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[dict[str, Any]] = []
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> int:
        return self.events[-1]["id"] if self.events else 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_for(self, event_id: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while self.last_id < event_id:
                await asyncio.sleep(0.05)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as http:
            while True:
                try:
                    headers = {"Last-Event-ID": str(self.last_id)}
                    async with http.stream(
                        "GET", f"{self.url}/api/v1/events", headers=headers
                    ) as stream:
                        async for line in stream.aiter_lines():
                            if line.startswith("data:"):
                                self.events.append(json.loads(line[5:]))
                except (httpx.TransportError, httpx.RemoteProtocolError):
                    pass
                self.reconnects += 1
                await asyncio.sleep(0.1)
