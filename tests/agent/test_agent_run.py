"""The real agent as a subprocess: full setup, fast second run, start + proxy, kill-and-resume."""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from comfyhangar.agent.protocol import parse_progress_line
from comfyhangar.agent.service import _alive
from comfyhangar.core.setup_progress import fold_progress
from tests.agent.conftest import (
    POD_TOKEN,
    Repos,
    Spawn,
    agent_cmd,
    agent_env,
    installed_version,
)
from tests.agent.fakehub import FakeHub
from tests.agent.netutil import free_port

pytestmark = pytest.mark.slow


def _manifest(repos: Repos, models: list[dict[str, Any]], nodes: bool = True) -> dict[str, Any]:
    return {
        "version": 1,
        "comfyui": {"repo": repos.comfyui, "ref": "v1.0"},
        "custom_nodes": [
            {"name": "node-good", "repo": repos.good, "ref": "main"},
            {"name": "node-numpy", "repo": repos.numpy, "ref": "main"},
            {"name": "node-broken", "repo": repos.broken, "ref": "main"},
        ]
        if nodes
        else [],
        "models": models,
        "pip": ["hangar-extra==2.0"],
    }


def _hf_model(hub: FakeHub, name: str, data: bytes, folder: str = "checkpoints") -> dict[str, Any]:
    hub.add_hf("org/gated", name, data, gated=True)
    return {
        "folder": folder, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "source": {"type": "huggingface", "repo": "org/gated", "file": name},
    }  # fmt: skip


def _progress(out: str) -> list[dict[str, Any]]:
    return [p for p in map(parse_progress_line, out.splitlines()) if p]


def _status(lines: list[dict[str, Any]], step: str, item: str | None = None) -> list[str]:
    return [p["status"] for p in lines if p["step"] == step and p.get("item") == item]


def _assert_one_forward_run_each(*runs: list[dict[str, Any]]) -> None:
    """Each run of the agent carries one run id of its own and moves every step forward only
    (the server, folding the lines, refuses none of them)."""
    ids = [{p["run"] for p in lines} for lines in runs]
    assert all(len(i) == 1 for i in ids), ids
    assert len(set().union(*ids)) == len(runs)
    setup = None
    for lines in runs:
        fold = fold_progress(setup, lines)
        assert fold.accepted == lines
        assert fold.new_run is (setup is not None)
        setup = fold.setup


def _assert_no_secrets(out: str, hub: FakeHub) -> None:
    for secret in (hub.token, hub.civitai_token, POD_TOKEN):
        assert secret not in out


class TestAgentRun:
    def test_full_setup_then_restart_is_fast_and_serves(
        self, tmp_path: Path, hub: FakeHub, repos: Repos, pod_python: str, wheels: Path,
        spawn: Spawn,
    ) -> None:  # fmt: skip
        hub.add_civitai(77, b"lora" * 5000, gated=True)
        data = os.urandom(3 << 20)
        models = [
            _hf_model(hub, "model.safetensors", data),
            {"folder": "loras", "name": "style.safetensors",
             "source": {"type": "civitai", "version_id": 77}},
        ]  # fmt: skip
        cmd = agent_cmd(_manifest(repos, models), tmp_path, hub, pod_python, wheels)
        first = subprocess.run(
            [*cmd, "--skip-start"], env=agent_env(hub), capture_output=True, text=True, timeout=120
        )
        out = first.stdout
        assert first.returncode == 0, out + first.stderr
        lines = _progress(out)
        assert _status(lines, "preflight")[-1] == "done"
        assert _status(lines, "comfyui")[-1] == "done"
        assert _status(lines, "custom_nodes", "node-good")[-1] == "done"
        assert _status(lines, "custom_nodes", "node-numpy")[-1] == "failed"  # blocked numpy
        assert _status(lines, "custom_nodes", "pip")[-1] == "done"
        assert _status(lines, "models")[-1] == "done"
        assert _status(lines, "ready")[-1] == "done"
        assert installed_version(pod_python, "numpy") == "1.0.0"
        assert installed_version(pod_python, "hangar_node_dep") == "1.0"
        comfy = tmp_path / "root/ComfyUI"
        assert (comfy / "models/checkpoints/model.safetensors").read_bytes() == data
        assert (comfy / "models/loras/style.safetensors").read_bytes() == b"lora" * 5000
        assert hub.header_values("cdn", "authorization") == []
        _assert_no_secrets(out + first.stderr, hub)

        hub.requests.clear()
        port, comfy_port = free_port(), free_port()
        proc = spawn(
            [*cmd, "--proxy-host", "127.0.0.1", "--proxy-port", str(port),
             "--comfyui-port", str(comfy_port)],
            env=agent_env(hub), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert proc.stdout is not None
        seen: list[str] = []
        for line in proc.stdout:
            seen.append(line)
            body = parse_progress_line(line)
            if body and body["step"] == "ready":
                break
        lines = _progress("".join(seen))
        assert _status(lines, "ready") == ["done"], "".join(seen)
        for step in ("comfyui", "models"):
            assert _status(lines, step)[-1] == "skipped"
        assert _status(lines, "custom_nodes", "node-good") == ["skipped"]
        assert [r for r in hub.requests if r[0] == "cdn"] == []

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/system_stats")
        assert conn.getresponse().status == 401
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/system_stats", headers={"Authorization": f"Bearer {POD_TOKEN}"})
        assert conn.getresponse().status == 200
        conn.close()

        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        everything = "".join(seen) + rest
        _assert_one_forward_run_each(_progress(out), _progress(everything))
        broken = _status(_progress(everything), "custom_nodes", "node-broken")
        assert "failed" in broken  # ComfyUI's "(IMPORT FAILED)" line, reported by name
        _assert_no_secrets(everything, hub)
        with pytest.raises(ConnectionRefusedError):
            http.client.HTTPConnection("127.0.0.1", comfy_port, timeout=1).connect()

    def test_kill_and_resume(
        self, tmp_path: Path, hub: FakeHub, repos: Repos, pod_python: str, wheels: Path,
        spawn: Spawn,
    ) -> None:  # fmt: skip
        data = os.urandom(8 << 20)
        manifest = _manifest(repos, [_hf_model(hub, "big.safetensors", data)], nodes=False)
        manifest.pop("pip")
        cmd = agent_cmd(manifest, tmp_path, hub, pod_python, wheels, "--skip-start",
                        "--skip", "comfyui", "--skip", "custom_nodes",
                        "--connections", "2", "--segment-mb", "1")  # fmt: skip
        hub.throttle_bps = 1_500_000
        proc = spawn(cmd, env=agent_env(hub), stdout=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while hub.served["org/gated/big.safetensors"] < 3 << 20:
            assert time.monotonic() < deadline
            assert proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.6)  # let at least one state save happen after 3 MiB
        proc.kill()
        proc.communicate()
        part = tmp_path / "root/ComfyUI/models/checkpoints/big.safetensors.hangar-part"
        assert part.is_file()
        assert part.with_name(part.name + ".json").is_file()

        hub.throttle_bps = 0
        again = subprocess.run(cmd, env=agent_env(hub), capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "resuming at" in again.stdout
        final = tmp_path / "root/ComfyUI/models/checkpoints/big.safetensors"
        assert hashlib.sha256(final.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
        assert hub.served["org/gated/big.safetensors"] < 2 * len(data)
        assert not part.exists()

    def test_comfyui_crash_and_exit_when_ready(
        self, tmp_path: Path, hub: FakeHub, repos: Repos, pod_python: str, wheels: Path,
        spawn: Spawn,
    ) -> None:  # fmt: skip
        manifest = _manifest(repos, [], nodes=False)
        manifest.pop("pip")
        ports = ["--proxy-host", "127.0.0.1", "--proxy-port", str(free_port()),
                 "--comfyui-port", str(free_port())]  # fmt: skip
        cmd = agent_cmd(manifest, tmp_path, hub, pod_python, wheels, *ports)
        crashed = subprocess.run(
            [*cmd, "--comfyui-arg=--crash-now"], env=agent_env(hub),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert crashed.returncode == 3, crashed.stdout + crashed.stderr
        lines = _progress(crashed.stdout)
        failed = [p for p in lines if p["step"] == "start" and p["status"] == "failed"]
        assert "exited with code 5" in failed[0]["error"]
        assert "[comfyui] Traceback" in crashed.stdout

        # A SIGKILLed agent leaves its ComfyUI behind, holding the port: the next run stops it.
        killed = spawn(cmd, env=agent_env(hub), stdout=subprocess.PIPE)
        assert killed.stdout is not None
        for line in killed.stdout:
            if (body := parse_progress_line(line)) and body["step"] == "ready":
                break
        killed.kill()
        killed.communicate()
        pid_file = tmp_path / "root/ComfyUI/user/hangar-comfyui.pid"
        leftover = int(pid_file.read_text())
        assert _alive(leftover)

        ready = subprocess.run(
            [*cmd, "--exit-when-ready"], env=agent_env(hub),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert "left over from an earlier run" in ready.stdout
        assert ready.returncode == 0, ready.stdout + ready.stderr
        lines = _progress(ready.stdout)
        assert _status(lines, "comfyui") == ["skipped"]
        assert _status(lines, "ready") == ["done"]
        assert not _alive(leftover)
        assert not pid_file.exists()

    def test_stay_on_failure_waits_for_sigterm(
        self, tmp_path: Path, hub: FakeHub, repos: Repos, pod_python: str, wheels: Path,
        spawn: Spawn,
    ) -> None:  # fmt: skip
        manifest = _manifest(repos, [_hf_model(hub, "g.bin", b"gated" * 100)], nodes=False)
        manifest.pop("pip")
        cmd = agent_cmd(manifest, tmp_path, hub, pod_python, wheels, "--skip-start",
                        "--skip", "comfyui", "--stay-on-failure")  # fmt: skip
        env = agent_env(hub)
        env.pop("HF_TOKEN")
        proc = spawn(cmd, env=env, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        for line in proc.stdout:
            if (body := parse_progress_line(line)) and body["step"] == "ready":
                assert body["status"] == "failed"
                break
        time.sleep(0.5)
        assert proc.poll() is None  # still up: no crash loop
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        assert proc.returncode == 1
