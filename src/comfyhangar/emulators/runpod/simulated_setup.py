"""A simulated agent run: the container log lines a ComfyHangar pod would print while it sets up.

A pod carrying the `HANGAR_DEPLOYMENT_ID` env marker is one of ours; in the emulator no agent
runs inside it, so after each entry into RUNNING the emulator schedules what the agent would
print (see docs/agent-progress-protocol.md): `[hangar] ` / `[comfyui] ` human lines and
`##hangar-progress## {...}` progress lines for preflight -> comfyui -> custom_nodes -> models ->
start -> ready, spread over `EmulatorConfig.simulated_setup_s` simulated seconds.

The emulator may not import `comfyhangar.agent`, so the progress lines are written by a small
local formatter; a test parses every one of them with the agent's own parser.

Sizes and names come from the manifest inside the pod's `HANGAR_AGENT_BUNDLE` env var (a base64
zip with `manifest.json`) when there is one; otherwise a fixed SDXL-sized model set is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from comfyhangar.emulators.runpod.logs import rfc3339

#: The env marker every pod ComfyHangar creates carries (`comfyhangar.runpod.provisioning`).
DEPLOYMENT_ENV = "HANGAR_DEPLOYMENT_ID"
#: The env var carrying the agent bundle and its manifest (`comfyhangar.agent.pack`).
BUNDLE_ENV = "HANGAR_AGENT_BUNDLE"
PREFIX = "##hangar-progress##"
VERSION = 1
MANIFEST_MAX_BYTES = 1 << 20
UNSIZED_MODEL_BYTES = 2_000_000_000  # a manifest model without `size`
DEFAULT_MODELS = (
    ("sd_xl_base_1.0.safetensors", 6_938_078_334),
    ("sdxl_vae.safetensors", 334_641_164),
)
COMFYUI_PORT = 18188
PROXY_PORT = 8188


def is_hangar_pod(env: Mapping[str, str]) -> bool:
    """True when the pod carries our deployment marker."""
    return bool(env.get(DEPLOYMENT_ENV))


def progress_line(step: str, status: str, at: datetime, **fields: Any) -> str:
    """One protocol line (as `comfyhangar.agent.protocol.format_progress_line` writes it)."""
    body: dict[str, Any] = {"v": VERSION, "step": step, "status": status}
    body.update({k: v for k, v in fields.items() if v is not None})
    body["time"] = rfc3339(at)[:23] + "Z"  # milliseconds, like the agent
    return f"{PREFIX} {json.dumps(body, separators=(',', ':'), ensure_ascii=True)}"


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
    models: tuple[tuple[str, int], ...]  # (file name, bytes)

    @property
    def bytes_total(self) -> int:
        return sum(size for _, size in self.models)


DEFAULT_PLAN = SetupPlan("master", (), 0, DEFAULT_MODELS)


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


def plan_for(env: Mapping[str, str]) -> SetupPlan:
    """The run to simulate for a pod with this env (the default plan without a manifest)."""
    manifest = read_manifest(env)
    if manifest is None:
        return DEFAULT_PLAN
    try:
        return _plan_from(manifest)
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_PLAN


def _plan_from(manifest: dict[str, Any]) -> SetupPlan:
    comfyui = manifest.get("comfyui") or {}
    nodes = []
    for node in manifest.get("custom_nodes") or []:
        repo = str(node.get("repo", "node")).rstrip("/")
        name = str(node.get("name") or repo.rsplit("/", 1)[-1].removesuffix(".git"))
        nodes.append((name, str(node.get("ref", "main"))))
    models = []
    for model in manifest.get("models") or []:
        source = model.get("source") or {}
        name = model.get("name") or str(source.get("file", "model.safetensors")).rsplit("/")[-1]
        size = model.get("size")
        sized = isinstance(size, int) and not isinstance(size, bool) and size >= 0
        models.append((str(name), size if sized else UNSIZED_MODEL_BYTES))
    pip = manifest.get("pip") or []
    return SetupPlan(str(comfyui.get("ref", "master")), tuple(nodes), len(pip), tuple(models))


def setup_lines(
    plan: SetupPlan, running_at: datetime, duration_s: float
) -> list[tuple[datetime, str]]:
    """Every line of one simulated run that starts at `running_at` and lasts `duration_s`.

    Times are absolute simulated moments, in order. Fractions of the run: preflight 0-4 %,
    comfyui 6-20 %, custom_nodes 22-32 %, models 34-80 %, start 82-98 %, ready at 100 %.
    """
    out: list[tuple[datetime, str]] = []
    run = run_id(running_at)

    def at(fraction: float) -> datetime:
        return running_at + timedelta(seconds=duration_s * fraction)

    def say(fraction: float, text: str, source: str = "hangar") -> None:
        out.append((at(fraction), human_line(text, source)))

    def emit(fraction: float, step: str, status: str, **fields: Any) -> None:
        moment = at(fraction)
        out.append((moment, progress_line(step, status, moment, **fields, run=run)))

    total = plan.bytes_total
    say(0.0, "agent starting: root /workspace, ComfyUI /workspace/ComfyUI (simulated run)")
    say(0.0, "step preflight")
    emit(0.0, "preflight", "started")
    emit(0.04, "preflight", "done", bytes_total=total, message="ok")

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
    emit(0.34, "models", "started", items_total=len(plan.models))
    if plan.models:
        _models(plan, emit, duration_s)
        emit(0.80, "models", "done", items_total=len(plan.models))
    else:
        emit(0.80, "models", "skipped", message="all 0 file(s) present")

    emit(0.82, "start", "started", message=f"starting ComfyUI on 127.0.0.1:{COMFYUI_PORT}")
    say(0.86, "Starting server", "comfyui")
    say(0.90, f"To see the GUI go to: http://127.0.0.1:{COMFYUI_PORT}", "comfyui")
    emit(0.92, "start", "running", message="waiting for ComfyUI")
    emit(0.98, "start", "done", message=f"ComfyUI answered after {duration_s * 0.16:.1f}s")
    emit(
        1.0, "ready", "done",
        message=f"ComfyUI is ready behind the token proxy on port {PROXY_PORT}",
    )  # fmt: skip
    return out


def _models(plan: SetupPlan, emit: Callable[..., None], duration_s: float) -> None:
    """`running` updates with growing `bytes_done`, and each file's `done` when it is in."""
    first, last = 0.34, 0.80
    span_s = duration_s * (last - first)
    ticks = max(3, min(10, int(span_s / 0.5)))  # the agent sends at most one per 0.5 s
    total = plan.bytes_total
    speed = total / span_s if span_s > 0 else None
    ends, acc = [], 0
    for name, size in plan.models:
        acc += size
        ends.append((name, size, acc))
    finished = 0
    for k in range(1, ticks + 1):
        fraction = first + (last - first) * k / ticks
        done = total * k // ticks
        while finished < len(ends) and ends[finished][2] <= done:
            name, size, _ = ends[finished]
            emit(fraction, "models", "done", item=name, bytes_done=size, bytes_total=size)
            finished += 1
        in_flight = ends[finished][0] if finished < len(ends) else None
        eta = (total - done) / speed if speed else None
        emit(
            fraction, "models", "running", bytes_done=done, bytes_total=total,
            speed_bps=round(speed) if speed is not None else None,
            eta_s=round(eta, 1) if eta is not None else None, item=in_flight,
        )  # fmt: skip
