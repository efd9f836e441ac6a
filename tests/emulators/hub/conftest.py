"""The hub stand-ins on real loopback ports, with a few small files of real content."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from comfyhangar.emulators.hub import CivitaiFile, CivitaiVersion, HubCatalog, HubEmulator, HubFile
from comfyhangar.emulators.hub.content import Stored
from comfyhangar.server.cloud import serve_hub

GATED_REPO = "black-forest-labs/FLUX.1-dev"
OPEN_REPO = "black-forest-labs/FLUX.1-schnell"


@dataclass
class Files:
    """Small files the tests added, with their bytes."""

    weights: bytes  # org/small (open): model.safetensors, in LFS
    gated: bytes  # black-forest-labs/FLUX.1-dev: tiny.safetensors, in LFS
    lora: bytes  # Civitai version 700001 (needs a login): lora.safetensors


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def files() -> Files:
    return Files(os.urandom(3 << 20 | 123), os.urandom(200_000), os.urandom(150_000))


@pytest.fixture
async def hub(files: Files) -> AsyncIterator[HubEmulator]:
    catalog = HubCatalog.default()
    catalog.add_hf_file("org/small", "model.safetensors", files.weights)
    catalog.add_hf_file(GATED_REPO, "tiny.safetensors", files.gated)
    blob = HubFile("lora.safetensors", Stored(files.lora))
    catalog.add_civitai_version(
        CivitaiVersion(
            700001, 600001, "Members LoRA", "v1", "LORA", "Flux.1 D",
            [CivitaiFile(800001, blob)], login_required=True,
        )
    )  # fmt: skip
    emulator = HubEmulator(catalog)
    async with serve_hub(emulator):
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
