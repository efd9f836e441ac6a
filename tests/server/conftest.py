"""A real ComfyHangar server on the embedded emulator, with time sped up for tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.server.app import create_app
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.settings import Settings
from tests.support.auth import auth_headers
from tests.support.servers import running_server


@dataclass
class Hangar:
    """A running server: `http` talks to its API; `runtime` and `emulator` steer it."""

    base_url: str
    http: httpx.AsyncClient
    runtime: Runtime

    @property
    def emulator(self) -> Any:
        return self.runtime.cloud.emulator

    async def wait_for(
        self,
        deployment_id: str,
        state: str,
        *,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Poll the deployment until it reaches `state` (fails with its last view)."""
        body: dict[str, Any] = {}
        async with asyncio.timeout(timeout):
            while True:
                body = (await self.http.get(f"/api/v1/deployments/{deployment_id}")).json()
                if body.get("state") == state:
                    return body
                await asyncio.sleep(0.05)
        raise AssertionError(body)  # pragma: no cover

    async def cycles(self, count: int = 2, *, timeout: float = 10.0) -> None:
        """Wait until `count` more reconcile cycles have finished (the first may have begun
        before the call, so `count=2` means at least one whole cycle from now)."""
        reconciler = self.runtime.reconciler
        async with asyncio.timeout(timeout):
            for _ in range(count):
                last = reconciler.last_cycle_at
                while reconciler.last_cycle_at == last:
                    await asyncio.sleep(0.01)


async def read_events(url: str, until_id: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The whole stream from id 0 up to `until_id`, in one connection."""
    events: list[dict[str, Any]] = []
    async with (
        asyncio.timeout(timeout),
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as http,
        http.stream(
            "GET", f"{url}/api/v1/events", headers={"Last-Event-ID": "0", **auth_headers()}
        ) as stream,
    ):
        async for line in stream.aiter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if events[-1]["id"] >= until_id:
                    break
    return events


def in_order(expected: list[str], seen: list[str]) -> bool:
    """`expected` appears in `seen` in this order (other items may come between)."""
    it = iter(seen)
    return all(s in it for s in expected)


def fast_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "emulator_speed": 20.0,
        "reconcile_interval_s": 0.2,
        "create_settle_s": 1.0,
        "lease_s": 5.0,
        # No model checks against the real Hugging Face / Civitai (test_preflight.py runs
        # them against local stand-ins).
        "preflight": False,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_hangar(settings: Settings, *, timeout: float = 10) -> AsyncIterator[Hangar]:
    """`create_app(settings)` served on a real port, with a client for it."""
    app = create_app(settings)
    async with (
        running_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=timeout, headers=auth_headers()) as http,
    ):
        yield Hangar(base, http, app.state.runtime)


@pytest.fixture
async def hangar(tmp_path: Path) -> AsyncIterator[Hangar]:
    async with running_hangar(fast_settings(tmp_path)) as hangar:
        yield hangar


DeployFn = Callable[..., Awaitable[dict[str, Any]]]

FLUX_DEPLOY: dict[str, Any] = {
    "name": "flux-dev",
    "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1},
    "container_disk_gb": 40,
    "volume_gb": 60,
}


FROZEN = 1e-9  # an emulator speed at which its clock moves only by hand (`emu.clock.advance`)


@contextlib.asynccontextmanager
async def frozen_runtime(tmp_path: Path, **overrides: Any) -> AsyncIterator[Runtime]:
    """A runtime with no background loops and the emulator's clock moved only by hand."""
    settings = fast_settings(tmp_path, emulator_speed=FROZEN, create_settle_s=0.0, **overrides)
    async with Runtime.start(settings, background=False) as runtime:
        yield runtime


@contextlib.asynccontextmanager
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API of `runtime`, served in-process (no lifespan: the runtime is already up).

    The base URL is the loopback address, which the Host check allows (port 80 is what the
    in-process transport reports as both the server's port and the Host's)."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers=auth_headers()
    ) as client:
        yield client


async def settle(runtime: Runtime, cycles: int = 2) -> None:
    """Run `cycles` reconcile cycles and wait for the pod actions they started."""
    for _ in range(cycles):
        await runtime.reconciler.cycle()
        await runtime.reconciler.actions.wait_idle()


async def deployment(runtime: Runtime, dep_id: str) -> Deployment:
    """The deployment's row as stored now."""
    async with runtime.sessions() as session:
        dep = await session.get(Deployment, dep_id)
    assert dep is not None
    return dep
