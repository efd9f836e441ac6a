"""Git checkouts at refs (tags, branches, commits), reuse, and the pip constraints file."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from comfyhangar.agent.installer import Installer, InstallError
from comfyhangar.agent.manifest import GitSource
from comfyhangar.agent.protocol import Reporter
from tests.agent.conftest import Repos


def _installer(tmp_path: Path, python: str = "python3") -> Installer:
    return Installer(Reporter(io.StringIO()), python, tmp_path / "state", allow_file_repos=True)


def _commit(url: str, ref: str) -> str:
    path = url.removeprefix("file://")
    return subprocess.run(
        ["git", "-C", path, "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()


class TestCheckout:
    def test_tag_then_commit_then_reuse(self, tmp_path: Path, repos: Repos) -> None:
        inst = _installer(tmp_path)
        dest = tmp_path / "ComfyUI"
        tag = GitSource("ComfyUI", repos.comfyui, "v1.0")
        assert not inst.is_current(tag, dest)
        commit = inst.checkout(tag, dest)
        assert commit == _commit(repos.comfyui, "v1.0")
        assert inst.is_current(tag, dest)
        by_sha = GitSource("ComfyUI", repos.comfyui, commit)
        assert not inst.is_current(by_sha, dest)  # another ref: checked again
        assert inst.checkout(by_sha, dest) == commit
        assert (dest / "main.py").is_file()

    def test_existing_clone_at_the_ref_is_reused_offline(
        self, tmp_path: Path, repos: Repos
    ) -> None:
        dest = tmp_path / "ComfyUI"
        subprocess.run(["git", "clone", "-q", repos.comfyui, str(dest)], check=True)
        inst = _installer(tmp_path)
        assert inst.is_current(GitSource("ComfyUI", "https://github.com/x/y", "v1.0"), dest)
        assert not _installer(tmp_path).is_current(GitSource("c", repos.comfyui, "nope"), dest)

    def test_unknown_ref_fails(self, tmp_path: Path, repos: Repos) -> None:
        with pytest.raises(InstallError, match="not found"):
            _installer(tmp_path).checkout(GitSource("n", repos.good, "nope"), tmp_path / "n")

    def test_a_directory_that_is_not_a_checkout_is_left_alone(
        self, tmp_path: Path, repos: Repos
    ) -> None:
        dest = tmp_path / "ComfyUI"
        dest.mkdir()
        (dest / "precious.txt").write_text("keep")
        with pytest.raises(InstallError, match="not a git checkout"):
            _installer(tmp_path).checkout(GitSource("c", repos.comfyui, "v1.0"), dest)
        assert (dest / "precious.txt").read_text() == "keep"

    def test_https_only_outside_test_mode(self, tmp_path: Path, repos: Repos) -> None:
        inst = Installer(Reporter(io.StringIO()), "python3", tmp_path / "s")
        with pytest.raises(InstallError):
            inst.checkout(GitSource("c", repos.comfyui, "v1.0"), tmp_path / "c")


class TestConstraints:
    def test_pins_installed_versions(self, tmp_path: Path, pod_python: str) -> None:
        path = _installer(tmp_path, pod_python).constraints()
        assert "numpy==1.0.0\n" in path.read_text()
