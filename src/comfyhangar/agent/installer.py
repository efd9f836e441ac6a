"""ComfyUI and custom nodes from git at pinned refs, and pip installs that keep torch in place.

Every command is an argument list (never a shell) with `--` before positional arguments; refs
and URLs were validated by the manifest module, so none of them can start with `-`. A checkout
records what it was made from in `.git/hangar.json`; the next run compares that with the
manifest and the checked-out commit and skips work that is already done.

Custom node requirements are installed with a pip constraints file that pins the torch,
torchvision, torchaudio and numpy already installed, so no node can replace the builds ComfyUI
runs on (pip fails instead, and the node is reported by name).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from .manifest import GitSource
from .protocol import Reporter

PINNED = ("torch", "torchvision", "torchaudio", "numpy")
_SHA = re.compile(r"[0-9a-f]{40}")  # applied with fullmatch
_VERSIONS_CODE = (
    "import json, importlib.metadata as m\n"
    "out = {}\n"
    "for name in %r:\n"
    "    try: out[name] = m.version(name)\n"
    "    except m.PackageNotFoundError: pass\n"
    "print(json.dumps(out))\n"
)


class InstallError(Exception):
    """A git or pip command failed; the message carries the tail of its output."""


class Installer:
    """Runs git and pip for the comfyui and custom_nodes steps."""

    def __init__(
        self,
        reporter: Reporter,
        python: str,
        state_dir: Path,
        *,
        pip_args: list[str] | None = None,
        allow_file_repos: bool = False,
        timeout_s: float = 1800.0,
    ) -> None:
        self.rep = reporter
        self.python = python
        self.state_dir = state_dir
        self.pip_args = list(pip_args or [])
        self.timeout_s = timeout_s
        self.env = dict(os.environ)
        self.env.update(
            GIT_TERMINAL_PROMPT="0",
            GIT_ALLOW_PROTOCOL="https:file" if allow_file_repos else "https",
            PIP_NO_INPUT="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_BREAK_SYSTEM_PACKAGES="1",
        )
        self._constraints: Path | None = None

    # -- git ---------------------------------------------------------------------------

    def is_current(self, src: GitSource, dest: Path) -> bool:
        """True if `dest` is a checkout of `src` made by us and still at the recorded commit."""
        if not (dest / ".git").is_dir():
            return False
        try:
            head = self.head(dest)
        except InstallError:
            return False
        marker = self._marker(dest)
        if marker is not None:
            same = marker.get("repo") == src.repo and marker.get("ref") == src.ref
            return same and head == marker.get("commit")
        # A checkout we did not make (a network volume, an image): reuse it if the ref is
        # already there and checked out, without touching the network.
        try:
            if self._resolve(dest, src.ref, remote_first=False) != head:
                return False
        except InstallError:
            return False
        self._write_marker(dest, {"repo": src.repo, "ref": src.ref, "commit": head})
        self.rep.log(f"{src.name}: found an existing checkout at {src.ref}; reusing it")
        return True

    def checkout(self, src: GitSource, dest: Path) -> str:
        """Make `dest` a checkout of `src.repo` at `src.ref`; returns the commit."""
        if dest.exists() and not (dest / ".git").is_dir() and any(dest.iterdir()):
            raise InstallError(f"{dest} exists and is not a git checkout; not touching it")
        dest.mkdir(parents=True, exist_ok=True)
        if not (dest / ".git").is_dir():
            self._git(dest, "init", "-q")
        remotes = self._git(dest, "remote").split()
        verb = "set-url" if "origin" in remotes else "add"
        self._git(dest, "remote", verb, "--", "origin", src.repo)
        try:
            self._git(dest, "fetch", "-q", "--depth", "1", "--no-tags", "--", "origin", src.ref)
            commit = self._git(dest, "rev-parse", "--verify", "FETCH_HEAD^{commit}").strip()
        except InstallError:
            self.rep.log(f"{src.name}: shallow fetch of {src.ref} failed; fetching all refs")
            self._git(dest, "fetch", "-q", "--tags", "--force", "--", "origin")
            commit = self._resolve(dest, src.ref)
        self._git(dest, "checkout", "-q", "--force", "--detach", commit)
        self._write_marker(dest, {"repo": src.repo, "ref": src.ref, "commit": commit})
        return commit

    def head(self, dest: Path) -> str:
        """The commit checked out in `dest`."""
        return self._git(dest, "rev-parse", "--verify", "HEAD").strip()

    def mark(self, dest: Path, **fields: Any) -> None:
        """Add fields (such as `pip_done`) to the checkout's marker."""
        self._write_marker(dest, (self._marker(dest) or {}) | fields)

    def marker(self, dest: Path) -> dict[str, Any]:
        """The checkout's marker (empty if none)."""
        return self._marker(dest) or {}

    # -- pip ---------------------------------------------------------------------------

    def pip_requirements(self, requirements: Path) -> None:
        """`pip install -r requirements` (from its folder) under the torch/numpy constraints."""
        self._pip(["-r", str(requirements)], cwd=requirements.parent)

    def pip_packages(self, packages: list[str]) -> None:
        """`pip install -- packages...` under the torch/numpy constraints."""
        self._pip(["--", *packages])

    def constraints(self) -> Path:
        """The constraints file pinning the installed torch, torchvision, torchaudio, numpy."""
        if self._constraints is None:
            code = _VERSIONS_CODE % (PINNED,)
            out = self._run([self.python, "-c", code], what="python", timeout=120)
            versions: dict[str, str] = json.loads(out.strip().splitlines()[-1])
            self.state_dir.mkdir(parents=True, exist_ok=True)
            path = self.state_dir / "constraints.txt"
            path.write_text("".join(f"{k}=={v}\n" for k, v in sorted(versions.items())))
            pins = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "nothing"
            self.rep.log(f"pip constraints pin {pins}")
            self._constraints = path
        return self._constraints

    def _pip(self, args: list[str], cwd: Path | None = None) -> None:
        constraints = self.constraints()
        self._run(
            [self.python, "-m", "pip", "install", "--no-input", *self.pip_args,
             "-c", str(constraints), *args],
            what="pip install", cwd=cwd,
        )  # fmt: skip

    # -- helpers -----------------------------------------------------------------------

    def _git(self, dest: Path, *args: str) -> str:
        base = ["git", "-c", f"safe.directory={dest}", "-c", "advice.detachedHead=false"]
        return self._run([*base, "-C", str(dest), *args], what=f"git {args[0]}")

    def _resolve(self, dest: Path, ref: str, *, remote_first: bool = True) -> str:
        candidates = [f"origin/{ref}", ref] if remote_first else [ref]
        for candidate in candidates:
            try:
                out = self._git(dest, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
            except InstallError:
                continue
            if _SHA.fullmatch(out.strip()):
                return out.strip()
        raise InstallError(f"ref {ref} not found in the repository")

    def _run(
        self, cmd: list[str], *, what: str, timeout: float | None = None, cwd: Path | None = None
    ) -> str:
        try:
            proc = subprocess.run(  # noqa: S603 - argument list, no shell
                cmd, capture_output=True, text=True, env=self.env,
                timeout=timeout or self.timeout_s, check=False, stdin=subprocess.DEVNULL, cwd=cwd,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstallError(f"{what}: {exc}") from None
        if proc.returncode != 0:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
            raise InstallError(f"{what} failed: {tail}")
        return proc.stdout

    def _marker(self, dest: Path) -> dict[str, Any] | None:
        try:
            data = json.loads((dest / ".git" / "hangar.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_marker(self, dest: Path, body: dict[str, Any]) -> None:
        (dest / ".git" / "hangar.json").write_text(json.dumps(body))
