"""The pod agent's real downloader against the stand-ins: it follows the hub's redirect to the
CDN, fetches segments with ranges, never sends a token to the CDN, checks the sha256, and fails
a gated or login-walled file without a token with its usual message."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

from comfyhangar.agent.download import Downloader, DownloadOptions
from comfyhangar.agent.manifest import ModelSpec
from comfyhangar.agent.protocol import Reporter, parse_progress_line
from comfyhangar.agent.sources import Sources
from comfyhangar.emulators.hub import DEMO_CIVITAI_KEY, DEMO_HF_TOKEN, HubEmulator
from tests.emulators.hub.conftest import GATED_REPO, Files, sha256


async def download(
    hub: HubEmulator,
    tmp_path: Path,
    models: list[ModelSpec],
    *,
    hf_token: str | None = None,
    civitai_token: str | None = None,
) -> tuple[list[str], list[dict[str, object]]]:
    """Run the agent's Downloader in a thread (the stand-ins serve in this loop)."""
    out = io.StringIO()
    reporter = Reporter(out, secrets=[t for t in (hf_token, civitai_token) if t])
    sources = Sources(hub.hf_url, hub.civitai_url, hf_token, civitai_token)
    options = DownloadOptions(allow_http=True, segment_size=1 << 20, connections=4, backoff_s=0.01)
    downloader = Downloader(reporter, sources, tmp_path / "state", options)
    failed = await asyncio.to_thread(downloader.run, models, tmp_path / "models")
    lines = [parse_progress_line(line) for line in out.getvalue().splitlines()]
    return failed, [p for p in lines if p is not None]


def hf_model(repo: str, file: str, data: bytes | None = None, **extra: object) -> ModelSpec:
    sized = {"size": len(data), "sha256": sha256(data)} if data is not None else {}
    return ModelSpec(
        name=file, folder="checkpoints", kind="huggingface", repo=repo, file=file,
        **{**sized, **extra},  # type: ignore[arg-type]
    )  # fmt: skip


async def test_a_gated_file_comes_through_the_cdn_in_ranges_with_the_token_only_on_the_hub(
    hub: HubEmulator, tmp_path: Path, files: Files
) -> None:
    specs = [
        hf_model("org/small", "model.safetensors", files.weights),
        hf_model(GATED_REPO, "tiny.safetensors", files.gated),
    ]
    failed, progress = await download(hub, tmp_path, specs, hf_token=DEMO_HF_TOKEN)
    assert failed == []
    models = tmp_path / "models/checkpoints"
    assert (models / "model.safetensors").read_bytes() == files.weights
    assert (models / "tiny.safetensors").read_bytes() == files.gated
    done = {p["item"] for p in progress if p["status"] == "done" and "item" in p}
    assert done == {"model.safetensors", "tiny.safetensors"}

    hub_calls = [r for r in hub.requests if r.service == "hf"]
    cdn_calls = [r for r in hub.requests if r.service == "cdn"]
    assert hub_calls
    assert cdn_calls
    assert all(r.authorized for r in hub_calls), "the hub got the token"
    assert not any(r.authorized for r in cdn_calls), "the CDN never did"
    ranges = [r.range for r in cdn_calls if r.path.endswith(sha256(files.weights))]
    assert len(ranges) >= 4, "a 3 MB file in 1 MiB segments, after the probe"
    assert "bytes=0-0" in ranges
    assert hub.bytes_served[sha256(files.weights)] >= len(files.weights)


async def test_a_civitai_file_behind_the_login_wall_downloads_with_an_api_key(
    hub: HubEmulator, tmp_path: Path, files: Files
) -> None:
    spec = ModelSpec(
        name="members.safetensors", folder="loras", kind="civitai", version_id=700001,
        size=len(files.lora), sha256=sha256(files.lora),
    )  # fmt: skip
    refused, progress = await download(hub, tmp_path / "a", [spec])
    assert refused == ["members.safetensors"]
    errors = [p["error"] for p in progress if p["status"] == "failed" and "item" in p]
    assert errors == ["HTTP 401: access denied (gated model? check CIVITAI_TOKEN)"]

    failed, _ = await download(hub, tmp_path / "b", [spec], civitai_token=DEMO_CIVITAI_KEY)
    assert failed == []
    assert (tmp_path / "b/models/loras/members.safetensors").read_bytes() == files.lora


async def test_the_agent_fails_a_gated_file_without_a_token_and_a_missing_one(
    hub: HubEmulator, tmp_path: Path
) -> None:
    specs = [
        hf_model(GATED_REPO, "flux1-dev.safetensors"),
        hf_model("black-forest-labs/FLUX.1-schnell", "missing.safetensors"),
    ]
    failed, progress = await download(hub, tmp_path, specs)
    assert failed == ["flux1-dev.safetensors", "missing.safetensors"]
    errors = {p["item"]: p["error"] for p in progress if p["status"] == "failed" and "item" in p}
    assert errors == {
        "flux1-dev.safetensors": "HTTP 401: access denied (gated model? check HF_TOKEN)",
        "missing.safetensors": f"HTTP 404 from {hub.hf_url.removeprefix('http://')}",
    }


async def test_a_sha256_that_is_not_the_files_fails_the_download(
    hub: HubEmulator, tmp_path: Path, files: Files
) -> None:
    wrong = hf_model("org/small", "model.safetensors", files.weights, sha256="0" * 64)
    failed, progress = await download(hub, tmp_path, [wrong])
    assert failed == ["model.safetensors"]
    (error,) = [p["error"] for p in progress if p["status"] == "failed"]
    assert error == (  # refused before a byte is fetched: the hub publishes the real sha256
        f"sha256 differs: the manifest says {'0' * 64}, Hugging Face publishes "
        f"{hashlib.sha256(files.weights).hexdigest()}"
    )
    assert not (tmp_path / "models/checkpoints/model.safetensors").exists()
