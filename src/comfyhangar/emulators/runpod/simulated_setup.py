"""A simulated agent run: the container log lines a ComfyHangar pod would print while it sets up.

A pod carrying the `HANGAR_DEPLOYMENT_ID` env marker is one of ours; in the emulator no agent
runs inside it, so after each entry into RUNNING the emulator schedules what the agent would
print (see docs/agent-progress-protocol.md): `[hangar] ` / `[comfyui] ` human lines and
`##hangar-progress## {...}` progress lines for preflight -> comfyui -> custom_nodes -> models ->
start -> ready. Everything but the downloads takes `EmulatorConfig.simulated_setup_s` simulated
seconds; the downloads take their bytes at `EmulatorConfig.download_bytes_per_s` on top
(`simulated_models.py` decides which files are kept, fetched or refused).

The emulator may not import `comfyhangar.agent`, so the progress lines are written by a small
local formatter; a test parses every one of them with the agent's own parser.

Names and sources come from the manifest inside the pod's `HANGAR_AGENT_BUNDLE` env var (a
base64 zip with `manifest.json`) when there is one; otherwise a fixed SDXL model set is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from comfyhangar.emulators.hub import HubEmulator
from comfyhangar.emulators.runpod.logs import rfc3339
from comfyhangar.emulators.runpod.simulated_models import PlannedModel, plan_models

#: The env marker every pod ComfyHangar creates carries (`comfyhangar.runpod.provisioning`).
DEPLOYMENT_ENV = "HANGAR_DEPLOYMENT_ID"
#: The env var carrying the agent bundle and its manifest (`comfyhangar.agent.pack`).
BUNDLE_ENV = "HANGAR_AGENT_BUNDLE"
PREFIX = "##hangar-progress##"
VERSION = 1
MANIFEST_MAX_BYTES = 1 << 20
#: What a pod of ours without a manifest "installs": SDXL base and its VAE.
DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    {
        "folder": "checkpoints",
        "name": "sd_xl_base_1.0.safetensors",
        "size": 6_938_078_334,
        "source": {
            "type": "huggingface",
            "repo": "stabilityai/stable-diffusion-xl-base-1.0",
            "file": "sd_xl_base_1.0.safetensors",
        },
    },
    {
        "folder": "vae",
        "name": "sdxl_vae.safetensors",
        "size": 334_641_164,
        "source": {
            "type": "huggingface",
            "repo": "stabilityai/sdxl-vae",
            "file": "sdxl_vae.safetensors",
        },
    },
)
COMFYUI_PORT = 18188
PROXY_PORT = 8188
DOWNLOADS_AT = 0.36  # fraction of simulated_setup_s at which the downloads begin


def is_hangar_pod(env: Mapping[str, str]) -> bool:
    """True when the pod carries our deployment marker."""
    return bool(env.get(DEPLOYMENT_ENV))


def progress_line(step: str, status: str, at: datetime, **fields: Any) -> str:
    """One protocol line (as `comfyhangar.agent.protocol.format_progress_line` writes it)."""
    body: dict[str, Any] = {"v": VERSION, "step": step, "status": status}
    body.update({k: v for k, v in fields.items() if v is not None})
    body["time"] = rfc3339(at)[:23] + "Z"  # milliseconds, like the agent
    return f"{PREFIX} {json.dumps(body, separators=(',', ':'), ensure_ascii=True)}"


def is_comfyui_started(line: str) -> bool:
    """True for the progress line that says ComfyUI answered (`start` `done`)."""
    if not line.startswith(PREFIX + " "):
        return False
    try:
        body = json.loads(line[len(PREFIX) + 1 :])
    except ValueError:
        return False
    return isinstance(body, dict) and (body.get("step"), body.get("status")) == ("start", "done")


def run_id(running_at: datetime) -> str:
    """The `run` every line of the simulated run started at `running_at` carries (like the
    agent's: 16 hex digits, new for each start)."""
    return hashlib.sha256(rfc3339(running_at).encode()).hexdigest()[:16]


def human_line(text: str, source: str = "hangar") -> str:
    """A human-readable line; it can never pass for a progress line."""
    return f"[{source}] {' '.join(text.splitlines()).replace(PREFIX, '#hangar-progress#')}"


@dataclass(frozen=True)
class SetupPlan:
    """What the simulated run installs: ComfyUI ref, node names, pip packages, model files."""

    comfyui_ref: str
    nodes: tuple[tuple[str, str], ...]  # (name, ref)
    pip: int
    models: tuple[PlannedModel, ...]

    @property
    def fetch_bytes(self) -> int:
        """Bytes the models step downloads."""
        return sum(m.fetch_bytes for m in self.models)


@dataclass(frozen=True)
class SimulatedRun:
    """The lines of one run, the model files it leaves on the disk (with the moment each
    one is complete: a stop before then leaves it out), and the moment ComfyUI answers behind
    the token proxy (None: the run fails before it starts ComfyUI)."""

    lines: list[tuple[datetime, str]]
    files: list[tuple[datetime, str, int, str | None]] = field(default_factory=list)
    comfyui_at: datetime | None = None


def read_manifest(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The manifest in the pod's agent bundle, or None (absent or unreadable; never raises)."""
    bundle = env.get(BUNDLE_ENV)
    if not bundle:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(bundle))) as zf:
            info = zf.getinfo("manifest.json")
            if info.file_size > MANIFEST_MAX_BYTES:
                return None
            data = json.loads(zf.read(info))
    except (ValueError, binascii.Error, zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    return data if isinstance(data, dict) else None


def plan_for(
    env: Mapping[str, str],
    hub: HubEmulator | None = None,
    on_disk: Mapping[str, Mapping[str, Any]] | None = None,
) -> SetupPlan:
    """The run to simulate for a pod with this env whose disk holds `on_disk` (the default
    SDXL set without a manifest); `hub` answers for the downloads (None: the manifest does)."""
    default = {"version": 1, "models": list(DEFAULT_MODELS)}
    manifest = read_manifest(env)
    for doc in (manifest, default) if manifest is not None else (default,):
        try:
            return _plan_from(doc, env, hub, on_disk or {})
        except (AttributeError, TypeError, ValueError):
            continue
    raise AssertionError("the default manifest is valid")  # pragma: no cover


def custom_nodes(manifest: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(folder name under `custom_nodes/`, repo URL, ref) of each custom node of a manifest,
    named as the agent names the clone (its `name`, else the repo's last path part)."""
    found = []
    for node in manifest.get("custom_nodes") or []:
        repo = str(node.get("repo", "node")).rstrip("/")
        name = str(node.get("name") or repo.rsplit("/", 1)[-1].removesuffix(".git"))
        found.append((name, repo, str(node.get("ref", "main"))))
    return found


def _plan_from(
    manifest: dict[str, Any],
    env: Mapping[str, str],
    hub: HubEmulator | None,
    on_disk: Mapping[str, Mapping[str, Any]],
) -> SetupPlan:
    comfyui = manifest.get("comfyui") or {}
    nodes = [(name, ref) for name, _, ref in custom_nodes(manifest)]
    models = plan_models(list(manifest.get("models") or []), env, hub, on_disk)
    pip = manifest.get("pip") or []
    return SetupPlan(str(comfyui.get("ref", "master")), tuple(nodes), len(pip), models)


def setup_run(
    plan: SetupPlan, running_at: datetime, duration_s: float, bytes_per_s: float
) -> SimulatedRun:
    """Every line of one simulated run that starts at `running_at`, and the files it writes.

    Times are absolute simulated moments, in order. With `D = duration_s` and `d` the download
    time (`plan.fetch_bytes / bytes_per_s`): preflight 0-4 % of D, comfyui 6-20 %, custom_nodes
    22-32 %, models from 34 % to 80 % of D + d, then start (82-98 %) and ready at D + d. A
    failed model ends the run after the models step, as the agent's does.
    """
    out: list[tuple[datetime, str]] = []
    run = run_id(running_at)
    download_s = plan.fetch_bytes / bytes_per_s

    def at(fraction: float, extra_s: float = 0.0) -> datetime:
        return running_at + timedelta(seconds=duration_s * fraction + extra_s)

    def say(fraction: float, text: str, source: str = "hangar", extra_s: float = 0.0) -> None:
        out.append((at(fraction, extra_s), human_line(text, source)))

    def emit(fraction: float, step: str, status: str, extra_s: float = 0.0, **fields: Any) -> None:
        moment = at(fraction, extra_s)
        out.append((moment, progress_line(step, status, moment, **fields, run=run)))

    waiting = [m for m in plan.models if not m.present]
    say(0.0, "agent starting: root /workspace, ComfyUI /workspace/ComfyUI (simulated run)")
    say(0.0, "step preflight")
    emit(0.0, "preflight", "started")
    emit(0.04, "preflight", "done", bytes_total=sum(m.size for m in waiting), message="ok")

    ref = plan.comfyui_ref
    commit = hashlib.sha1(ref.encode(), usedforsecurity=False).hexdigest()[:12]
    say(0.06, "step comfyui")
    emit(0.06, "comfyui", "started", message=f"ref {ref}")
    emit(0.12, "comfyui", "running", message="installing requirements")
    emit(0.20, "comfyui", "done", message=f"ComfyUI at {ref} ({commit})")

    say(0.22, "step custom_nodes")
    nodes = plan.nodes
    emit(0.22, "custom_nodes", "started", items_total=len(nodes))
    items = [*nodes, *([("pip", f"{plan.pip} package(s)")] if plan.pip else [])]
    slot = 0.10 / (len(items) + 1)
    for i, (name, ref_or_note) in enumerate(items):
        note = ref_or_note if name == "pip" else f"ref {ref_or_note}"
        emit(0.22 + slot * (i + 0.5), "custom_nodes", "started", item=name, message=note)
        emit(0.22 + slot * (i + 1), "custom_nodes", "done", item=name)
    summary = f"{len(nodes)}/{len(nodes)} node(s) ready"
    emit(
        0.32,
        "custom_nodes",
        "done" if items else "skipped",
        items_total=len(nodes),
        message=summary,
    )

    say(0.34, "step models")
    count = len(plan.models)
    emit(0.34, "models", "started", items_total=count)
    for model in plan.models:
        if model.present:
            emit(0.34, "models", "skipped", item=model.name, message="already present")
    files: list[tuple[datetime, str, int, str | None]] = []
    if not waiting:
        emit(0.80, "models", "skipped", message=f"all {count} file(s) present")
    else:
        files = _downloads(plan, emit, at, bytes_per_s, download_s)
        failed = [m for m in waiting if not m.fetched] + [
            m for m in waiting if m.fetched and m.error
        ]
        for model in failed:
            emit(0.80, "models", "failed", download_s, item=model.name, error=model.error)
        if failed:
            names = ", ".join(m.name for m in failed)
            emit(0.80, "models", "failed", download_s, error=f"failed: {names}")
            emit(0.80, "ready", "failed", download_s, message="setup stopped: step models failed")
            say(0.80, "setup failed; staying up so the failure can be read (stop the pod to end)",
                extra_s=download_s)  # fmt: skip
            return SimulatedRun(out, files)
        emit(0.80, "models", "done", download_s, items_total=count)

    emit(
        0.82,
        "start",
        "started",
        download_s,
        message=f"starting ComfyUI on 127.0.0.1:{COMFYUI_PORT}",
    )
    say(0.86, "Starting server", "comfyui", download_s)
    say(0.90, f"To see the GUI go to: http://127.0.0.1:{COMFYUI_PORT}", "comfyui", download_s)
    emit(0.92, "start", "running", download_s, message="waiting for ComfyUI")
    emit(
        0.98,
        "start",
        "done",
        download_s,
        message=f"ComfyUI answered after {duration_s * 0.16:.1f}s",
    )
    emit(
        1.0, "ready", "done", download_s,
        message=f"ComfyUI is ready behind the token proxy on port {PROXY_PORT}",
    )  # fmt: skip
    return SimulatedRun(out, files, comfyui_at=at(0.98, download_s))


def _downloads(
    plan: SetupPlan,
    emit: Callable[..., None],
    at: Callable[[float, float], datetime],
    bytes_per_s: float,
    download_s: float,
) -> list[tuple[datetime, str, int, str | None]]:
    """The download lines as the agent prints them (one `running` line with the totals, each
    file `started`, `running` updates with growing `bytes_done`, each file `done` when its last
    byte is in), one file after another from 36 % of the run at `bytes_per_s`; returns the
    files that end up on the disk, with the moment each is complete."""
    live = [m for m in plan.models if not m.present and m.fetched]
    total = sum(m.size for m in live)
    emit(DOWNLOADS_AT, "models", "running", 0.0, bytes_done=0, bytes_total=total,
         items_total=len(live), message=f"downloading {len(live)} file(s)")  # fmt: skip
    for model in live:
        emit(DOWNLOADS_AT, "models", "started", 0.0, item=model.name, bytes_total=model.size,
             bytes_done=0)  # fmt: skip
    ends, acc = [], 0
    for model in live:
        acc += model.size
        ends.append((model, acc))
    ticks = max(3, min(10, int(download_s / 0.5)))  # the agent sends at most one per 0.5 s
    files: list[tuple[datetime, str, int, str | None]] = []
    finished = 0
    for k in range(1, ticks + 1):
        done = total * k // ticks
        while finished < len(ends) and ends[finished][1] <= done:
            model, end = ends[finished]
            if model.error is None:
                end_s = end / bytes_per_s
                emit(DOWNLOADS_AT, "models", "done", end_s, item=model.name,
                     bytes_done=model.size, bytes_total=model.size)  # fmt: skip
                files.append((at(DOWNLOADS_AT, end_s), model.relpath, model.size, model.sha256))
            finished += 1
        in_flight = ends[finished][0].name if finished < len(ends) else None
        emit(DOWNLOADS_AT, "models", "running", download_s * k / ticks, bytes_done=done,
             bytes_total=total, speed_bps=round(bytes_per_s),
             eta_s=round((total - done) / bytes_per_s, 1), item=in_flight)  # fmt: skip
    return files
