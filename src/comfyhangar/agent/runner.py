"""The six steps, in order, each reported: preflight, comfyui, custom_nodes, models, start, ready.

A run is idempotent: a second run skips the checkouts, pip installs and files that are done, so a
pod restart costs seconds. Setup failures end the run with exit code 1 (custom nodes excepted:
a node that fails is reported by name and ComfyUI starts without it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .download import Downloader, DownloadFailed, DownloadOptions
from .installer import Installer, InstallError
from .manifest import Manifest
from .preflight import preflight
from .protocol import Reporter
from .service import ServiceOptions, serve
from .sources import Sources

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SKIPPABLE = ("preflight", "comfyui", "custom_nodes", "models", "start")


@dataclass
class RunConfig:
    """Everything a run needs besides the manifest (from the CLI)."""

    root: Path
    comfyui_dir: Path
    python: str
    sources: Sources
    download: DownloadOptions
    service: ServiceOptions
    pip_args: list[str] = field(default_factory=list)
    skip: set[str] = field(default_factory=set)
    no_gpu_ok: bool = False
    allow_file_repos: bool = False

    @property
    def state_dir(self) -> Path:
        """Where the agent keeps its own state (`ROOT/.hangar`)."""
        return self.root / ".hangar"

    @property
    def models_dir(self) -> Path:
        """ComfyUI's models directory."""
        return self.comfyui_dir / "models"


def run(manifest: Manifest, cfg: RunConfig, rep: Reporter) -> int:
    """Run every step not skipped; returns the process exit code."""
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    installer = Installer(
        rep, cfg.python, cfg.state_dir, pip_args=cfg.pip_args,
        allow_file_repos=cfg.allow_file_repos,
    )  # fmt: skip
    steps: list[tuple[str, Callable[[], bool]]] = [
        ("preflight", lambda: _preflight(manifest, cfg, rep)),
        ("comfyui", lambda: _comfyui(manifest, cfg, rep, installer)),
        ("custom_nodes", lambda: _custom_nodes(manifest, cfg, rep, installer)),
        ("models", lambda: _models(manifest, cfg, rep)),
    ]
    for name, step in steps:
        if name in cfg.skip:
            rep.progress(name, "skipped", message="skipped by request")
            continue
        rep.log(f"step {name}")
        try:
            ok = step()
        except Exception as exc:  # noqa: BLE001 - a bug must still end in a reported failure
            rep.progress(name, "failed", error=rep.redact(f"{type(exc).__name__}: {exc}"))
            ok = False
        if not ok:
            rep.progress("ready", "failed", message=f"setup stopped: step {name} failed")
            return EXIT_FAILED
    if "start" in cfg.skip:
        rep.progress("start", "skipped", message="skipped by request")
        rep.progress("ready", "done", message="setup complete; ComfyUI not started")
        return EXIT_OK
    return serve(cfg.comfyui_dir, cfg.python, cfg.service, rep)


def _preflight(manifest: Manifest, cfg: RunConfig, rep: Reporter) -> bool:
    rep.progress("preflight", "started")
    res = preflight(manifest, cfg.root, cfg.models_dir, cfg.python, no_gpu_ok=cfg.no_gpu_ok)
    message = "; ".join(res.problems + res.notes) or "ok"
    status = "failed" if res.problems else "done"
    rep.progress("preflight", status, bytes_total=max(res.need_bytes, 0), message=message)
    return not res.problems


def _comfyui(manifest: Manifest, cfg: RunConfig, rep: Reporter, inst: Installer) -> bool:
    src, dest = manifest.comfyui, cfg.comfyui_dir
    current = inst.is_current(src, dest)
    if current and inst.marker(dest).get("pip_done"):
        rep.progress("comfyui", "skipped", message=f"already at {src.ref}")
        return True
    rep.progress("comfyui", "started", message=f"ref {src.ref}")
    try:
        commit = inst.head(dest) if current else inst.checkout(src, dest)
        if (dest / "requirements.txt").is_file():
            rep.progress("comfyui", "running", message="installing requirements")
            inst.pip_requirements(dest / "requirements.txt")
        inst.mark(dest, pip_done=True)
    except InstallError as exc:
        rep.progress("comfyui", "failed", error=str(exc))
        return False
    rep.progress("comfyui", "done", message=f"ComfyUI at {src.ref} ({commit[:12]})")
    return True


def _custom_nodes(manifest: Manifest, cfg: RunConfig, rep: Reporter, inst: Installer) -> bool:
    nodes = manifest.custom_nodes
    rep.progress("custom_nodes", "started", items_total=len(nodes))
    failed: list[str] = []
    worked = False
    for node in nodes:
        dest = cfg.comfyui_dir / "custom_nodes" / node.name
        try:
            if inst.is_current(node, dest) and inst.marker(dest).get("pip_done"):
                rep.progress("custom_nodes", "skipped", item=node.name, message="already installed")
                continue
            worked = True
            rep.progress("custom_nodes", "started", item=node.name, message=f"ref {node.ref}")
            if not inst.is_current(node, dest):
                inst.checkout(node, dest)
            reqs = dest / "requirements.txt"
            if node.requirements and reqs.is_file():
                inst.pip_requirements(reqs)
            inst.mark(dest, pip_done=True)
            rep.progress("custom_nodes", "done", item=node.name)
        except InstallError as exc:
            failed.append(node.name)
            rep.progress("custom_nodes", "failed", item=node.name, error=str(exc))
    pip_status = _extra_pip(manifest, cfg, rep, inst) if manifest.pip else "skipped"
    if pip_status == "failed":
        failed.append("pip")
    summary = f"{len(nodes) - len([f for f in failed if f != 'pip'])}/{len(nodes)} node(s) ready"
    if failed:
        summary += f"; failed: {', '.join(failed)}"
    status = "done" if worked or pip_status != "skipped" else "skipped"
    rep.progress("custom_nodes", status, items_total=len(nodes), message=summary)
    return True


def _extra_pip(manifest: Manifest, cfg: RunConfig, rep: Reporter, inst: Installer) -> str:
    """Install the manifest's pip packages; returns the item's final status."""
    record = cfg.state_dir / "pip-packages.txt"
    wanted = "\n".join(manifest.pip)
    if record.is_file() and record.read_text() == wanted:
        rep.progress("custom_nodes", "skipped", item="pip", message="packages already installed")
        return "skipped"
    rep.progress("custom_nodes", "started", item="pip", message=f"{len(manifest.pip)} package(s)")
    try:
        inst.pip_packages(list(manifest.pip))
    except InstallError as exc:
        rep.progress("custom_nodes", "failed", item="pip", error=str(exc))
        return "failed"
    record.write_text(wanted)
    rep.progress("custom_nodes", "done", item="pip", message=f"{len(manifest.pip)} package(s)")
    return "done"


def _models(manifest: Manifest, cfg: RunConfig, rep: Reporter) -> bool:
    rep.progress("models", "started", items_total=len(manifest.models))
    downloader = Downloader(rep, cfg.sources, cfg.state_dir, cfg.download)
    try:
        failed = downloader.run(list(manifest.models), cfg.models_dir)
    except (DownloadFailed, OSError) as exc:
        rep.progress("models", "failed", error=rep.redact(str(exc)))
        return False
    if failed:
        rep.progress("models", "failed", error=f"failed: {', '.join(failed)}")
        return False
    if downloader.fetched == 0:
        rep.progress("models", "skipped", message=f"all {len(manifest.models)} file(s) present")
        return True
    rep.progress("models", "done", items_total=len(manifest.models))
    return True
