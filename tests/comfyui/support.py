"""The emulator as tests use it: on a real socket, with a clock that moves only when asked.

`emulator_server()` serves a `ComfyUIEmulator` on uvicorn (tests/support/servers.py) with a
frozen clock; `FrozenClockDriver.tick()` moves it on, so a test that waits for a frame lets
simulated time pass and one that acts between frames acts at a fixed simulated instant.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from comfyhangar.emulators.comfyui import (
    ComfyUIConfig,
    ComfyUIEmulator,
    NodeOutput,
    NodeType,
    RunContext,
)
from comfyhangar.emulators.comfyui.images import encode_png
from comfyhangar.emulators.comfyui.values import Picture
from comfyhangar.emulators.runpod.clock import SimClock
from tests.comfyui.transcripts import MODEL_FILES, PROBE_DEFINITION
from tests.support.servers import running_server

FROZEN = 1e-9  # simulated seconds per real second: time moves only by advance()
TICK_S = 0.1  # simulated seconds per tick


async def _probe(ctx: RunContext, inputs: dict[str, Any]) -> NodeOutput:
    """HangarProbeSampler (tests/comfyui/probe_nodes): `steps` ticks with a preview each."""
    picture = inputs["image"]
    assert isinstance(picture, Picture)
    steps = int(inputs["steps"])
    for step in range(steps):
        await ctx.work(float(inputs["step_seconds"]))
        await ctx.step(step + 1, steps, picture.tones[0][0], (picture.width, picture.height))
    return NodeOutput((picture,))


PROBE_NODE = NodeType(PROBE_DEFINITION, _probe)


@dataclass
class FrozenClockDriver:
    """Lets simulated time pass in small steps while a test waits."""

    clock: SimClock

    async def tick(self) -> None:
        self.clock.advance(TICK_S)
        await asyncio.sleep(0.002)


@dataclass
class RunningEmulator:
    emu: ComfyUIEmulator
    base_url: str
    driver: FrozenClockDriver


def recorded_pod_config(root: Path) -> ComfyUIConfig:
    """An emulator set up like the server the transcripts were recorded on (see the recorder)."""
    (root / "input").mkdir(parents=True, exist_ok=True)
    (root / "input" / "example.png").write_bytes(encode_png(768, 768, (0.4, 0.6, 1.0), (0.4, 1.0, 0.4)))  # fmt: skip
    return ComfyUIConfig(root=root, models=MODEL_FILES, extra_nodes=(PROBE_NODE,))


@contextlib.asynccontextmanager
async def emulator_server(
    config: ComfyUIConfig, *, speed: float | None = None, **changes: Any
) -> AsyncIterator[RunningEmulator]:
    """The emulator on a loopback port; its clock frozen (see `FrozenClockDriver`) unless a
    `speed` (simulated seconds per real second) is given."""
    clock = SimClock(speed or FROZEN)
    emu = ComfyUIEmulator(replace(config, **changes), clock=clock)
    try:
        async with running_server(emu.app) as base_url:
            yield RunningEmulator(emu, base_url, FrozenClockDriver(clock))
    finally:
        await emu.aclose()
