"""Fixtures for emulator tests: a contract-checked emulator whose clock only moves on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from comfyhangar.emulators.runpod import EmulatorConfig
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

KEY = "emulator-test-key"
FROZEN = 1e-9  # simulated seconds per real second: time moves only by clock.advance()
RTX_4090 = "NVIDIA GeForce RTX 4090"


def pod_body(**overrides: Any) -> dict[str, Any]:
    """A valid create-pod body; keyword arguments replace or add top-level fields."""
    body: dict[str, Any] = {
        "name": "comfy-test",
        "image": "runpod/comfyui:latest",
        "gpu": {"id": RTX_4090, "count": 1},
        "disk": 20,
        "ports": ["8188/http", "22/tcp"],
        "env": {"HANGAR_DEPLOYMENT": "d-1"},
    }
    body.update(overrides)
    return body


@pytest.fixture
async def handle() -> AsyncIterator[EmulatorHandle]:
    async with emulator_server(EmulatorConfig(api_key=KEY, seed=7, speed=FROZEN)) as running:
        yield running


@pytest.fixture
async def client(handle: EmulatorHandle) -> AsyncIterator[httpx.AsyncClient]:
    async with handle.client() as http:
        yield http


@pytest.fixture
async def world() -> AsyncIterator[Any]:
    """`tests.emulators.simworld.simulated_world()`: (handle, client, hub)."""
    from tests.emulators.simworld import simulated_world

    async with simulated_world() as running:
        yield running
