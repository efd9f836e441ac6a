"""Fixtures for the client's integration tests: a contract-checked emulator and our client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from comfyhangar.emulators.runpod import EmulatorConfig
from comfyhangar.runpod import RunPodClient
from tests.runpod.helpers import Sleeps, fast_policy
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

KEY = "client-test-key"
FROZEN = 1e-9  # simulated seconds per real second: time moves only by clock.advance()


@pytest.fixture
async def handle() -> AsyncIterator[EmulatorHandle]:
    """An emulator whose clock moves only on demand; fails on exit on any spec violation."""
    async with emulator_server(
        EmulatorConfig(api_key=KEY, seed=42, speed=FROZEN, setup="none")
    ) as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def runpod(handle: EmulatorHandle, sleeps: Sleeps) -> AsyncIterator[RunPodClient]:
    """Our client on the emulator, with fast retries and a recording sleep."""
    async with RunPodClient(
        handle.api_key, handle.base_url, retry=fast_policy(sleeps), timeout=10.0
    ) as client:
        yield client
