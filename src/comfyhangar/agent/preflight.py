"""Step 1: is this machine able to run the manifest? Disk, python, git, GPU."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .manifest import Manifest


@dataclass
class PreflightResult:
    """What preflight found; `problems` non-empty means the step failed."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    need_bytes: int = 0
    free_bytes: int = 0


def preflight(
    manifest: Manifest, root: Path, models_dir: Path, python: str, *, no_gpu_ok: bool
) -> PreflightResult:
    """Check free disk against the downloads still missing, python, git and the GPU."""
    res = PreflightResult()
    if not (shutil.which(python) or Path(python).is_file()):
        res.problems.append(f"python not found: {python}")
    if not shutil.which("git"):
        res.problems.append("git not found on PATH")
    root.mkdir(parents=True, exist_ok=True)
    present = sum(
        m.size or 0
        for m in manifest.models
        if (models_dir / m.folder / m.name).is_file()
        and (models_dir / m.folder / m.name).stat().st_size == m.size
    )
    res.need_bytes = manifest.known_download_bytes - present
    existing = next(p for p in (models_dir, *models_dir.parents) if p.exists())
    res.free_bytes = shutil.disk_usage(existing).free
    if res.need_bytes > res.free_bytes:
        res.problems.append(
            f"not enough disk under {root}: {_gb(res.need_bytes)} to download, "
            f"{_gb(res.free_bytes)} free"
        )
    unknown = [m.name for m in manifest.models if m.size is None]
    if unknown:
        res.notes.append(f"size unknown for {len(unknown)} model(s), checked after probing")
    gpu = _gpu()
    if gpu:
        res.notes.append(f"GPU: {gpu}")
    elif no_gpu_ok:
        res.notes.append("no GPU visible (allowed by --no-gpu-ok)")
    else:
        res.problems.append("no GPU visible (nvidia-smi missing or failing)")
    return res


def _gpu() -> str | None:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed argument list
            [exe, "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return "; ".join(names) or None


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"
