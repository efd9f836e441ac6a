"""Fixtures for the agent tests: local git repos, a wheel folder, a Python with pip, a hub."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.agent.fakehub import FakeHub

FAKE_MAIN = Path(__file__).with_name("fake_comfyui_main.py")
POD_TOKEN = "pod-token-abcdefghijklmnop"


@dataclass
class Repos:
    """file:// URLs of the stand-in ComfyUI and custom node repositories."""

    comfyui: str
    good: str
    numpy: str
    broken: str


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links folder of tiny wheels built by hand."""
    folder = tmp_path_factory.mktemp("wheels")
    for name, version in [
        ("hangar_comfy_dep", "1.0"),
        ("hangar_node_dep", "1.0"),
        ("hangar_extra", "2.0"),
        ("numpy", "1.0.0"),
        ("numpy", "2.0.0"),
    ]:
        _wheel(folder, name, version)
    return folder


@pytest.fixture(scope="session")
def pod_python(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> str:
    """A venv that plays the pod's Python: pip works, and `numpy` 1.0.0 (a fake) is installed."""
    venv = tmp_path_factory.mktemp("podpy") / "venv"
    base_has_pip = (
        subprocess.run(
            [sys._base_executable, "-c", "import pip"],  # type: ignore[attr-defined]
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    flags = ["--without-pip", "--system-site-packages"] if base_has_pip else []
    subprocess.run([sys.executable, "-m", "venv", *flags, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels),
         "numpy==1.0.0"],
        check=True,
    )  # fmt: skip
    return python


@pytest.fixture(scope="session")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Repos:
    """Local git repositories for ComfyUI and three custom nodes."""
    base = tmp_path_factory.mktemp("repos")
    comfy = _repo(
        base / "ComfyUI",
        {"main.py": FAKE_MAIN.read_text(), "requirements.txt": "hangar-comfy-dep\n"},
        tag="v1.0",
    )
    good = _repo(
        base / "node-good",
        {"__init__.py": "NODE_CLASS_MAPPINGS = {}\n", "requirements.txt": "hangar-node-dep\n"},
    )
    numpy = _repo(base / "node-numpy", {"__init__.py": "", "requirements.txt": "numpy>=2\n"})
    broken = _repo(base / "node-broken", {"__init__.py": "raise ImportError('no module xyz')\n"})
    return Repos(*(f"file://{p}" for p in (comfy, good, numpy, broken)))


Spawn = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start processes that are stopped at teardown, with any ComfyUI they left behind."""
    procs: list[subprocess.Popen[str]] = []

    def start(cmd: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(cmd, text=True, **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    for pid_file in tmp_path.rglob("hangar-comfyui.pid"):
        try:
            pid = int(pid_file.read_text())
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except (OSError, ValueError):
            continue
        if cwd.is_relative_to(tmp_path):  # ours, not a reused pid
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as h:
        yield h


def gated_model_manifest(repos: Repos, hub: FakeHub, data: bytes) -> dict[str, Any]:
    """ComfyUI, one custom node and `data` as a gated Hugging Face model (added to `hub`)."""
    hub.add_hf("org/gated", "model.safetensors", data, gated=True)
    return {
        "version": 1,
        "comfyui": {"repo": repos.comfyui, "ref": "v1.0"},
        "custom_nodes": [{"name": "node-good", "repo": repos.good, "ref": "main"}],
        "models": [
            {"folder": "checkpoints", "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest(),
             "source": {"type": "huggingface", "repo": "org/gated", "file": "model.safetensors"}},
        ],
    }  # fmt: skip


def agent_cmd(
    manifest: dict[str, object], tmp: Path, hub: FakeHub, python: str, wheels: Path, *extra: str
) -> list[str]:
    """The agent command line for a test run (writes the manifest to `tmp`)."""
    path = tmp / "manifest.json"
    path.write_text(json.dumps(manifest))
    return [
        sys.executable, "-m", "comfyhangar.agent", "run", "--manifest", str(path),
        "--root", str(tmp / "root"), "--python", python, "--insecure-allow-http",
        "--allow-host", "127.0.0.1", "--hf-endpoint", hub.hub_url,
        "--civitai-endpoint", hub.hub_url, "--no-gpu-ok", "--backoff", "0.05",
        "--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}", *extra,
    ]  # fmt: skip


def agent_env(hub: FakeHub, **extra: str) -> dict[str, str]:
    """The environment for an agent run: tokens set, nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANGAR_", "PIP_"))}
    env.update(HF_TOKEN=hub.token, CIVITAI_TOKEN=hub.civitai_token, HANGAR_POD_TOKEN=POD_TOKEN)
    env.update(extra)
    return env


def _repo(path: Path, files: dict[str, str], tag: str | None = None) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    if tag:
        subprocess.run([*git, "tag", tag], check=True)
    return path


def _wheel(folder: Path, name: str, version: str) -> None:
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)


def installed_version(python: str, dist: str) -> str | None:
    """The version of `dist` that `python` sees, or None."""
    out = subprocess.run(
        [python, "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return out.stdout.strip() if out.returncode == 0 else None


def which_python310() -> str | None:
    """A Python 3.10 interpreter if this machine has one."""
    pyenv = Path.home() / ".pyenv/versions"
    candidates = [str(p / "bin/python3.10") for p in sorted(pyenv.glob("3.10*"))]
    candidates += [c for c in (shutil.which("python3.10"),) if c]
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None
