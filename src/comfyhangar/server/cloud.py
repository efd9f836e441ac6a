"""The cloud the server talks to: real RunPod with a key, the embedded emulator without one.

With no `HANGAR_RUNPOD_API_KEY`, the RunPod emulator runs inside the server process on a
loopback port with a throwaway key, and everything else talks to it exactly as to RunPod. Its
account (pods, logs, volumes, money, clock) lives in `simulated_cloud_state(settings)` in the
data directory, so a restart of the server finds the simulated cloud where it left it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.emulators.runpod.store import check_state_file
from comfyhangar.runpod import RunPodClient
from comfyhangar.server.loopback import serve_on_loopback
from comfyhangar.server.settings import Settings

# Simulated pods: PROVISIONING 3 s, STARTING 5 s, then the simulated setup runs.
EMBEDDED_CONFIG = EmulatorConfig(provisioning_s=3.0, starting_s=5.0, restart_s=3.0)
#: The simulated cloud's directory inside the data directory: delete it to reset the cloud.
SIMULATED_CLOUD_DIR = "simulated-cloud"


def simulated_cloud_state(settings: Settings) -> Path:
    """The file that keeps the embedded emulator's account across restarts."""
    return settings.data_dir / SIMULATED_CLOUD_DIR / "runpod.sqlite3"


def check_simulated_cloud(settings: Settings) -> None:
    """Raise `StateFileError` (naming the file) when the simulated cloud's state cannot be
    used: another format, a newer version, damaged, or in use by another process."""
    check_state_file(simulated_cloud_state(settings))


@dataclass
class Cloud:
    """A RunPod client, and the emulator behind it when the cloud is simulated."""

    client: RunPodClient
    simulated: bool
    emulator: RunPodEmulator | None = None

    def now(self) -> datetime:
        """The cloud's time: the emulator's (possibly accelerated) clock, or real UTC time."""
        return self.emulator.clock.now() if self.emulator is not None else datetime.now(UTC)


@contextlib.asynccontextmanager
async def connect_cloud(settings: Settings) -> AsyncIterator[Cloud]:
    """Open the RunPod client (starting the embedded emulator first when simulated)."""
    if settings.runpod_api_key is not None:
        async with RunPodClient(
            settings.runpod_api_key.get_secret_value(), settings.runpod_api_url
        ) as client:
            yield Cloud(client=client, simulated=False)
        return
    key = secrets.token_urlsafe(24)
    emulator = RunPodEmulator(
        dataclasses.replace(
            EMBEDDED_CONFIG,
            api_key=key,
            speed=settings.emulator_speed,
            state_path=simulated_cloud_state(settings),
        )
    )
    try:
        async with (
            serve_on_loopback(emulator.app, lifespan="off") as base_url,
            RunPodClient(key, f"{base_url}/v2") as client,
        ):
            yield Cloud(client=client, simulated=True, emulator=emulator)
    finally:
        await emulator.aclose()  # agent mode: end the pods' agent processes
