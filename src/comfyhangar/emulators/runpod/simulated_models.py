"""The models step of a simulated run: which files are kept, downloaded or refused, and why.

A simulated pod decides as the real agent does (`comfyhangar.agent.download`), without bytes:

- A file already on the pod's disk is kept ("already present") when it has the manifest's
  size and sha256 (each when the manifest gives one), as the agent's registry check does.
- Any other file is asked of the hub stand-ins (`HubEmulator.resolve_hf` / `resolve_civitai`)
  with the pod's `HF_TOKEN` / `CIVITAI_TOKEN`: a refusal fails it with the agent's message
  (`HTTP 401: access denied (gated model? check HF_TOKEN)`, `HTTP 404 from <host>`); a hub size
  that differs from the manifest's fails it as the agent's probe does; a manifest sha256 that is
  not the file's fails it after the download, as the agent's check does.
- A plain URL source cannot be reached: the simulated cloud simulates only the two hubs.

Without a hub (the emulator on its own) the manifest is believed: its size (2 GB when it gives
none) and sha256. The messages are written out here (the emulator may not import the agent);
`tests/emulators/test_simulated_models.py` holds them against the real agent's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from comfyhangar.emulators.hub import Download, HubEmulator, HubError

UNSIZED_MODEL_BYTES = 2_000_000_000  # a manifest model without `size`, when no hub knows it
#: The disk of a pod as the simulated runs leave it: `folder/name` -> {"size", "sha256"}.
ModelFiles = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PlannedModel:
    """One model file of a simulated run and what happens to it."""

    name: str
    relpath: str  # folder/name under ComfyUI's models directory
    size: int
    sha256: str | None = None
    present: bool = False  # kept: already on the disk
    error: str | None = None  # the agent's message when the file fails
    fetched: bool = True  # its bytes are downloaded (also when it then fails its check)

    @property
    def fetch_bytes(self) -> int:
        return self.size if self.fetched and not self.present else 0


def plan_models(
    entries: list[Any],
    env: Mapping[str, str],
    hub: HubEmulator | None,
    on_disk: Mapping[str, Mapping[str, Any]],
) -> tuple[PlannedModel, ...]:
    """What the models step does with each manifest model entry on a disk holding `on_disk`."""
    return tuple(_plan(entry, env, hub, on_disk) for entry in entries)


def _plan(
    entry: Any,
    env: Mapping[str, str],
    hub: HubEmulator | None,
    on_disk: Mapping[str, Mapping[str, Any]],
) -> PlannedModel:
    source = entry.get("source") or {}
    name = str(entry.get("name") or str(source.get("file", "model.safetensors")).rsplit("/")[-1])
    relpath = f"{entry.get('folder', 'checkpoints')}/{name}"
    size, sha = entry.get("size"), entry.get("sha256")
    size = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    sha = sha if isinstance(sha, str) else None
    have = on_disk.get(relpath)
    if have is not None and size in (None, have.get("size")) and sha in (None, have.get("sha256")):
        return PlannedModel(name, relpath, int(have.get("size") or 0), have.get("sha256"), True)
    if hub is None:
        return PlannedModel(name, relpath, UNSIZED_MODEL_BYTES if size is None else size, sha)
    found = resolve(source, env, hub)
    if isinstance(found, str):
        return PlannedModel(name, relpath, size or 0, sha, error=found, fetched=False)
    # What the agent checks before it fetches anything (agent/published.py `expect`).
    said = "Civitai publishes" if source.get("type") == "civitai" else "Hugging Face publishes"
    if sha is not None and sha != found.sha256:
        error = f"sha256 differs: the manifest says {sha}, {said} {found.sha256}"
        return PlannedModel(name, relpath, found.size, sha, error=error, fetched=False)
    civitai = source.get("type") == "civitai"  # it publishes kilobytes: within 1 KiB agrees
    if size is not None and (abs(size - found.size) > 1024 if civitai else size != found.size):
        published = (
            f"about {found.size / 1024} KB" if source.get("type") == "civitai" else found.size
        )
        error = f"size differs: the manifest says {size} bytes, {said} {published}"
        return PlannedModel(name, relpath, size, sha, error=error, fetched=False)
    return PlannedModel(name, relpath, found.size, found.sha256)


def resolve(source: Mapping[str, Any], env: Mapping[str, str], hub: HubEmulator) -> Download | str:
    """What downloading `source` gets from the stand-ins, or the agent's message for why not."""
    kind = source.get("type")
    try:
        if kind == "huggingface":
            token = env.get("HF_TOKEN") or None
            return hub.resolve_hf(
                str(source.get("repo")),
                str(source.get("revision", "main")),
                str(source.get("file")),
                token,
            )
        if kind == "civitai":
            return hub.resolve_civitai(int(source.get("version_id", 0)), env.get("CIVITAI_TOKEN"))
    except HubError as refusal:
        service = "HF_TOKEN" if kind == "huggingface" else "CIVITAI_TOKEN"
        host = urlsplit(hub.hf_url if kind == "huggingface" else hub.civitai_url).netloc
        return refusal_message(refusal.status, service, host)
    host = urlsplit(str(source.get("url", ""))).hostname or "the URL's host"
    return (
        f"{host}: not reachable from the simulated cloud, which simulates only Hugging Face "
        "and Civitai"
    )


def refusal_message(status: int, token_env: str, host: str) -> str:
    """The agent's message for a refused download (`agent.sources.Sources.check_response`)."""
    if status in (401, 403):
        return f"HTTP {status}: access denied (gated model? check {token_env})"
    return f"HTTP {status} from {host}"
