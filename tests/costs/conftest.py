"""Helpers for the cost reports tests: a runtime on a frozen cloud clock, and its API in-process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from comfyhangar.server.app import create_app
from comfyhangar.server.runtime import Runtime
from tests.server.conftest import fast_settings


@contextlib.asynccontextmanager
async def frozen_runtime(tmp_path: Path, **overrides: Any) -> AsyncIterator[Runtime]:
    """A runtime with no background loops; the embedded emulator's clock only moves by hand."""
    settings = fast_settings(tmp_path, emulator_speed=1e-9, create_settle_s=0.0, **overrides)
    async with Runtime.start(settings, background=False) as runtime:
        yield runtime


@contextlib.asynccontextmanager
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API of `runtime`, served in-process (no lifespan: the runtime is already up)."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hangar") as client:
        yield client
