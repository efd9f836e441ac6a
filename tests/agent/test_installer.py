"""Git checkouts at refs (tags, branches, commits), reuse, and the pip constraints file."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from comfyhangar.agent.installer import Installer, InstallError, tool_env
from comfyhangar.agent.manifest import GitSource
from comfyhangar.agent.protocol import Reporter
from tests.agent.conftest import Repos, installed_version


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


class TestCleanEnvironment:
    """Env a deployment sets never reaches git or pip: none of it can run a command."""

    @pytest.mark.parametrize("vector", ["fsmonitor", "hooks", "pythonpath"])
    def test_injection_env_runs_nothing_in_clone_fetch_checkout_and_pip(
        self, vector: str, tmp_path: Path, repos: Repos, pod_python: str, wheels: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        marker = tmp_path / "PWNED"
        hooks, site = tmp_path / "hooks", tmp_path / "site"
        hooks.mkdir()
        site.mkdir()
        (hooks / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / "post-checkout").chmod(0o755)
        (site / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
        injected = {  # git runs core.fsmonitor in fetch and checkout, hooks in checkout
            "fsmonitor": {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor",
                          "GIT_CONFIG_VALUE_0": f"touch {marker}"},
            "hooks": {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath",
                      "GIT_CONFIG_VALUE_0": str(hooks)},
            "pythonpath": {"PYTHONPATH": str(site)},  # pip and the constraints' python
        }[vector]  # fmt: skip
        for name, value in injected.items():
            monkeypatch.setenv(name, value)
        inst = Installer(
            Reporter(io.StringIO()), pod_python, tmp_path / "state",
            pip_args=["--no-index", f"--find-links={wheels}"], allow_file_repos=True,
        )  # fmt: skip
        dest = tmp_path / "node"
        first = inst.checkout(GitSource("n", repos.good, "main"), dest)  # init, fetch, checkout
        assert inst.checkout(GitSource("n", repos.good, first), dest) == first  # on a checkout
        inst.pip_packages(["hangar-extra==2.0"])
        assert not marker.exists()
        assert installed_version(pod_python, "hangar_extra") == "2.0"

    def test_only_the_images_basics_pass(self) -> None:
        image = {
            "PATH": "/opt/venv/bin:/usr/bin", "HOME": "/root", "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "https_proxy": "http://proxy:3128", "NO_PROXY": "localhost",
            "SSL_CERT_FILE": "/etc/ssl/ca.pem", "VIRTUAL_ENV": "/opt/venv", "TMPDIR": "/scratch",
        }  # fmt: skip
        user = {
            "GIT_CONFIG_COUNT": "1", "GIT_EXEC_PATH": "/x", "GIT_SSH_COMMAND": "x",
            "PIP_INDEX_URL": "https://evil", "PYTHONPATH": "/x", "LD_PRELOAD": "/x.so",
            "HF_TOKEN": "hf_secret", "HANGAR_POD_TOKEN": "pod", "MY_SETTING": "1",
        }  # fmt: skip
        env = tool_env({**image, **user})
        assert {k: env[k] for k in image} == image
        assert not set(user) & set(env)
        assert env["GIT_CONFIG_NOSYSTEM"] == "1"
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert env["GIT_ALLOW_PROTOCOL"] == "https"
        assert tool_env({}, allow_file_repos=True)["GIT_ALLOW_PROTOCOL"] == "https:file"
