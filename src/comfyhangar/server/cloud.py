"""The cloud the server talks to: real RunPod with a key, the embedded emulator without one.

With no `HANGAR_RUNPOD_API_KEY`, the RunPod emulator runs inside the server process on a
loopback port with a throwaway key, and everything else talks to it exactly as to RunPod.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from comfyhangar.emulators.hub import HubEmulator
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.runpod import RunPodClient
from comfyhangar.server.loopback import serve_apps_on_loopback, serve_on_loopback
from comfyhangar.server.settings import Settings

# Simulated pods: PROVISIONING 3 s, STARTING 5 s, then the simulated setup runs.
EMBEDDED_CONFIG = EmulatorConfig(provisioning_s=3.0, starting_s=5.0, restart_s=3.0)


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
        dataclasses.replace(EMBEDDED_CONFIG, api_key=key, speed=settings.emulator_speed)
    )
    try:
        async with (
            serve_on_loopback(emulator.app, lifespan="off") as base_url,
            RunPodClient(key, f"{base_url}/v2") as client,
        ):
            yield Cloud(client=client, simulated=True, emulator=emulator)
    finally:
        await emulator.aclose()  # agent mode: end the pods' agent processes


@contextlib.asynccontextmanager
async def serve_hub(hub: HubEmulator) -> AsyncIterator[HubEmulator]:
    """Serve the Hugging Face, Civitai and CDN stand-ins on three loopback ports (three
    origins, so a token that follows a redirect to the CDN is seen) and tell `hub` where."""
    apps = [hub.hf_app, hub.civitai_app, hub.cdn_app]
    async with serve_apps_on_loopback(apps) as (hf, civitai, cdn):
        hub.set_origins(hf=hf, civitai=civitai, cdn=cdn)
        yield hub
