"""Targets for the client tests: the emulator always, a real ComfyUI when one is configured.

`HANGAR_TEST_COMFYUI_URL` points the `target` fixture's second variant at a real server (set up
as tests/comfyui/record_transcript.py describes, for the tests that need the probe node);
without it that variant is not collected (marker `real_comfyui`, see tests/conftest.py): CI has
no real ComfyUI and runs the emulator side. The emulator runs at `SPEED`, so a probe prompt of N steps of
0.05 s takes N / 400 real seconds.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from comfyhangar.comfyui import ComfyUIClient, Retry
from comfyhangar.emulators.comfyui import ComfyUIEmulator
from tests.comfyui.support import emulator_server, recorded_pod_config

SPEED = 20.0
REAL_URL = os.environ.get("HANGAR_TEST_COMFYUI_URL", "").rstrip("/")


FAST_RETRY = Retry(attempts=3, base_delay=0.01, max_delay=0.05, settle_s=0.05)


@dataclass
class Target:
    """A ComfyUI to test the client against; `emu` is None for a real server."""

    base_url: str
    emu: ComfyUIEmulator | None
    has_probe: bool
    run: str

    def client(self, **options: object) -> ComfyUIClient:
        return ComfyUIClient(self.base_url, retry=FAST_RETRY, **options)  # type: ignore[arg-type]

    def require_probe(self) -> None:
        if not self.has_probe:
            pytest.skip("the real server lacks the probe node (see record_transcript.py)")


@pytest.fixture(
    params=["emulator", pytest.param("real", marks=[pytest.mark.slow, pytest.mark.real_comfyui])]
)
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    run = secrets.token_hex(4)
    if request.param == "emulator":
        async with emulator_server(recorded_pod_config(tmp_path), speed=SPEED) as running:
            yield Target(running.base_url, running.emu, True, run)
        return
    async with httpx.AsyncClient(base_url=REAL_URL, timeout=30) as http:
        probe = bool((await http.get("/object_info/HangarProbeSampler")).json())
    yield Target(REAL_URL, None, probe, run)
