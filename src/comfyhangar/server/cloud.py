"""The cloud the server talks to: real RunPod with a key, the embedded emulator without one.

With no `HANGAR_RUNPOD_API_KEY`, the RunPod emulator runs inside the server process on a
loopback port with a throwaway key, and everything else talks to it exactly as to RunPod. The
whole world is simulated then: the Hugging Face and Civitai stand-ins run beside it (their own
loopback ports), preflight asks them, and the simulated pods "download" from them. The
emulator's account (pods, logs, volumes, money, clock) lives in `simulated_cloud_state(settings)`
in the data directory, so a restart of the server finds the simulated cloud where it left it.

The simulated pods' ComfyUI (`emulators/runpod/pod_comfyui.py`) keeps its files on the pods'
disks in `simulated-cloud/disks/`, and answers at `/simulated-pods/{pod_id}/comfyui/` both on
the server's own port (for browsers: `server/simulated_pods.py`) and on a loopback port of its
own (`Cloud.simulated_pods_url`, for the server's own ComfyUI clients, which must not depend on
how the server's port is reached from outside).
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from comfyhangar.emulators.hub import HubEmulator
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.emulators.runpod.store import check_state_file
from comfyhangar.runpod import RunPodClient
from comfyhangar.server.hosts import AllowedHosts, host_rules
from comfyhangar.server.loopback import serve_apps_on_loopback
from comfyhangar.server.settings import Settings

# Simulated pods: PROVISIONING 3 s, STARTING 5 s, then the simulated setup runs.
EMBEDDED_CONFIG = EmulatorConfig(provisioning_s=3.0, starting_s=5.0, restart_s=3.0)
#: The simulated cloud's directory inside the data directory: delete it to reset the cloud.
SIMULATED_CLOUD_DIR = "simulated-cloud"


def simulated_cloud_state(settings: Settings) -> Path:
    """The file that keeps the embedded emulator's account across restarts."""
    return settings.data_dir / SIMULATED_CLOUD_DIR / "runpod.sqlite3"


def simulated_cloud_disks(settings: Settings) -> Path:
    """Where the simulated pods' disks keep their ComfyUI files (inputs, outputs)."""
    return settings.data_dir / SIMULATED_CLOUD_DIR / "disks"


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
    hub: HubEmulator | None = None
    #: The loopback base URL that serves the simulated pods' ComfyUI (simulated cloud only).
    simulated_pods_url: str | None = None

    @property
    def hub_endpoints(self) -> tuple[str, str] | None:
        """(Hugging Face, Civitai) base URLs of the stand-ins, when the cloud is simulated."""
        return (self.hub.hf_url, self.hub.civitai_url) if self.hub is not None else None

    def now(self) -> datetime:
        """The cloud's time: the emulator's (possibly accelerated) clock, or real UTC time."""
        return self.emulator.clock.now() if self.emulator is not None else datetime.now(UTC)


@contextlib.asynccontextmanager
async def serve_hub(hub: HubEmulator, *others: Any) -> AsyncIterator[list[str]]:
    """Serve the Hugging Face, Civitai and CDN stand-ins on loopback ports of their own (three
    origins, so a token that follows a redirect to the CDN is seen) and tell `hub` where; with
    `others` (ASGI apps) on more ports of the same server. Yields the base URLs of `others`."""
    apps = [*others, hub.hf_app, hub.civitai_app, hub.cdn_app]
    async with serve_apps_on_loopback(apps) as urls:
        hf, civitai, cdn = urls[len(others) :]
        hub.set_origins(hf=hf, civitai=civitai, cdn=cdn)
        yield urls[: len(others)]


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
    hub = HubEmulator()
    emulator = RunPodEmulator(
        dataclasses.replace(
            EMBEDDED_CONFIG,
            api_key=key,
            speed=settings.emulator_speed,
            state_path=simulated_cloud_state(settings),
            disks_path=simulated_cloud_disks(settings),
        ),
        hub=hub,
    )
    try:
        # The pods' ComfyUI on loopback, with the Host check of the server's own port.
        pods_app = AllowedHosts(emulator.comfyui.app, host_rules("127.0.0.1", []))
        async with (
            serve_hub(hub, emulator.app, pods_app) as (base_url, pods_url),
            RunPodClient(key, f"{base_url}/v2") as client,
        ):
            yield Cloud(
                client=client,
                simulated=True,
                emulator=emulator,
                hub=hub,
                simulated_pods_url=pods_url,
            )
    finally:
        await emulator.aclose()  # agent mode: end the pods' agent processes
