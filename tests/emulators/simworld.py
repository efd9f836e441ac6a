"""A simulated world for emulator tests: the RunPod emulator with the hub stand-ins, and
helpers to create tagged pods with a manifest and read their progress lines."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx

from comfyhangar.agent.pack import pod_launch
from comfyhangar.agent.protocol import PREFIX, parse_progress_line
from comfyhangar.emulators.hub import HubCatalog, HubEmulator
from comfyhangar.emulators.runpod import EmulatorConfig
from comfyhangar.server.cloud import serve_hub
from tests.emulators.conftest import FROZEN, KEY, pod_body
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

PROV, START, SETUP, BANDWIDTH = 3.0, 5.0, 15.0, 100e6
TO_RUNNING = PROV + START
SCHNELL = "black-forest-labs/FLUX.1-schnell"
DEV = "black-forest-labs/FLUX.1-dev"
AE_SIZE = 335_304_388
VOLUME = {"persistent": {"size": 100, "path": "/workspace"}}


World = tuple[EmulatorHandle, httpx.AsyncClient, HubEmulator]


@contextlib.asynccontextmanager
async def simulated_world(**overrides: Any) -> AsyncIterator[World]:
    """A frozen-clock emulator whose simulated pods download from served hub stand-ins (the
    default catalog plus two small files in org/small), and a client for its API; `overrides`
    replace fields of its `EmulatorConfig` (`state_path=...`)."""
    catalog = HubCatalog.default()
    catalog.add_hf_file("org/small", "a.safetensors", b"a" * 1000)
    catalog.add_hf_file("org/small", "b.safetensors", b"b" * 3000)
    hub = HubEmulator(catalog)
    config = EmulatorConfig(
        api_key=KEY, seed=3, speed=FROZEN, provisioning_s=PROV, starting_s=START,
        restart_s=3.0, simulated_setup_s=SETUP, download_bytes_per_s=BANDWIDTH,
    )  # fmt: skip
    config = dataclasses.replace(config, **overrides)
    async with serve_hub(hub), emulator_server(config, hub=hub) as handle, handle.client() as c:
        yield handle, c, hub


def hf(repo: str, file: str, folder: str = "vae", **extra: Any) -> dict[str, Any]:
    return {
        "folder": folder,
        "source": {"type": "huggingface", "repo": repo, "file": file},
        **extra,
    }


async def create(
    client: httpx.AsyncClient,
    models: list[dict[str, Any]],
    env: dict[str, str] | None = None,
    **body: Any,
) -> str:
    launch = pod_launch({"version": 1, "models": models})
    env = {"HANGAR_DEPLOYMENT_ID": "dep-1", **launch.env, **(env or {})}
    response = await client.post("/pods", json=pod_body(env=env, args=launch.args, **body))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def progress(handle: EmulatorHandle, pod_id: str) -> list[dict[str, Any]]:
    """Every progress line delivered so far, parsed with the agent's parser."""
    logs = handle.emu.pod_record(pod_id).logs
    logs.materialize(handle.emu.now())
    found = [parse_progress_line(ln.line) for ln in logs.lines if PREFIX in ln.line]
    assert None not in found
    return [p for p in found if p is not None]


def step(bodies: list[dict[str, Any]], name: str) -> list[tuple[str, str | None]]:
    return [(b["status"], b.get("item")) for b in bodies if b["step"] == name]


async def act(client: httpx.AsyncClient, pod_id: str, action: str) -> None:
    response = await client.post(f"/pods/{pod_id}/action", json={"action": action})
    assert response.status_code == 200, response.text
