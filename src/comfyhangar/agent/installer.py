"""ComfyUI and custom nodes from git at pinned refs, and pip installs that keep torch in place.

Every command is an argument list (never a shell) with `--` before positional arguments; refs
and URLs were validated by the manifest module, so none of them can start with `-`. A checkout
records what it was made from in `.git/hangar.json`; the next run compares that with the
manifest and the checked-out commit and skips work that is already done.

Custom node requirements are installed with a pip constraints file that pins the torch,
torchvision, torchaudio and numpy already installed, so no node can replace the builds ComfyUI
runs on (pip fails instead, and the node is reported by name).

git and pip run with a clean environment (`tool_env`): the path, home, locale, temporary
directory, proxy and CA bundle settings of the image and the venv, and nothing else, so no
variable a deployment sets (`GIT_CONFIG_*`, `GIT_EXEC_PATH`, `PIP_*`, `PYTHONPATH`, `LD_PRELOAD`,
...) can steer them into running a command. git also reads no system or global config, runs no
hooks and no fsmonitor, and speaks https only (plus `file` in test mode).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .manifest import GitSource
from .protocol import Reporter

PINNED = ("torch", "torchvision", "torchaudio", "numpy")
#: Variables git and pip get from the agent's environment (plus every `LC_*`).
PASSED_ENV = (
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
)  # fmt: skip
#: Set for every git command: git's own protections against config that runs commands.
GIT_GUARDS = (
    "core.hooksPath=/dev/null", "core.fsmonitor=false", "credential.helper=",
    "fetch.recurseSubmodules=false", "protocol.allow=never", "protocol.https.allow=always",
    "advice.detachedHead=false",
)  # fmt: skip
_SHA = re.compile(r"^[0-9a-f]{40}$")
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
        self.allow_file_repos = allow_file_repos
        self.env = tool_env(os.environ, allow_file_repos=allow_file_repos)
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
        guards = [*GIT_GUARDS, f"safe.directory={dest}"]
        if self.allow_file_repos:
            guards.append("protocol.file.allow=always")
        base = ["git", *(arg for guard in guards for arg in ("-c", guard))]
        return self._run([*base, "-C", str(dest), *args], what=f"git {args[0]}")

    def _resolve(self, dest: Path, ref: str, *, remote_first: bool = True) -> str:
        candidates = [f"origin/{ref}", ref] if remote_first else [ref]
        for candidate in candidates:
            try:
                out = self._git(dest, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
            except InstallError:
                continue
            if _SHA.match(out.strip()):
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


def tool_env(environ: Mapping[str, str], *, allow_file_repos: bool = False) -> dict[str, str]:
    """The environment git and pip run with: `PASSED_ENV` and `LC_*` from `environ`, and the
    settings the agent wants; nothing else a deployment set reaches them."""
    env = {k: v for k, v in environ.items() if k in PASSED_ENV or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL="https:file" if allow_file_repos else "https",
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_BREAK_SYSTEM_PACKAGES="1",
    )
    return env
