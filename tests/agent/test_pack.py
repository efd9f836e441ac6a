"""The packed agent runs alone: unpacked by the one-line args, with no comfyhangar installed."""

from __future__ import annotations

import ast
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from comfyhangar.agent import pack
from comfyhangar.agent.protocol import parse_progress_line
from tests.agent.conftest import Repos, agent_cmd, agent_env, which_python310
from tests.agent.fakehub import FakeHub
from tests.agent.netutil import free_port

AGENT_DIR = Path(pack.__file__).parent


class TestPack:
    def test_bundle_is_deterministic_and_stdlib_only(self) -> None:
        bundle = pack.build_bundle({"version": 1})
        assert bundle == pack.build_bundle({"version": 1})
        names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
        assert "manifest.json" in names
        assert "comfyhangar/agent/__main__.py" in names
        stdlib = sys.stdlib_module_names
        for path in AGENT_DIR.glob("*.py"):
            tree = ast.parse(path.read_text(), feature_version=(3, 10))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    mods = [node.module or ""]
                else:
                    continue
                for mod in mods:
                    top = mod.split(".")[0]
                    assert top in stdlib or mod.startswith("comfyhangar.agent"), (path, mod)

    def test_clean_interpreter_cannot_see_comfyhangar(self, tmp_path: Path) -> None:
        probe = subprocess.run(
            [sys.executable, "-I", "-S", "-c", "import comfyhangar"],
            cwd=tmp_path, capture_output=True, check=False,
        )  # fmt: skip
        assert probe.returncode != 0

    @pytest.mark.slow
    def test_unpacked_bundle_runs_alone(
        self, tmp_path: Path, hub: FakeHub, repos: Repos, pod_python: str, wheels: Path
    ) -> None:
        data = b"weights" * 10000
        hub.add_hf("org/m", "w.safetensors", data)
        manifest = {
            "version": 1,
            "comfyui": {"repo": repos.comfyui, "ref": "v1.0"},
            "custom_nodes": [{"name": "node-good", "repo": repos.good, "ref": "main"}],
            "models": [{"folder": "vae", "sha256": hashlib.sha256(data).hexdigest(),
                        "source": {"type": "huggingface", "repo": "org/m", "file": "w.safetensors"}}],
        }  # fmt: skip
        # Same flags as the other tests, minus the interpreter and the manifest path.
        flags = agent_cmd(manifest, tmp_path, hub, pod_python, wheels, "--skip-start")[8:]
        for python in filter(None, [sys.executable, which_python310()]):
            root = tmp_path / f"root-{Path(python).name}"
            unpack = tmp_path / f"unpacked-{Path(python).name}"
            launch = pack.pod_launch(
                manifest, root=str(root), extra_args=flags, python=python, unpack_dir=str(unpack)
            )
            env = agent_env(hub) | launch.env
            result = subprocess.run(
                ["sh", "-c", launch.args], cwd=tmp_path, env=env,
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
            lines = [p for p in map(parse_progress_line, result.stdout.splitlines()) if p]
            assert lines[-1]["step"] == "ready"
            assert lines[-1]["status"] == "done"
            assert (root / "ComfyUI/models/vae/w.safetensors").read_bytes() == data
            assert (unpack / "comfyhangar/agent/cli.py").is_file()
            # The unpacked tree also runs as `python -m` from its folder, site-packages off.
            clean_env = {"PATH": env["PATH"]}
            where = subprocess.run(
                [python, "-S", "-c", "import comfyhangar.agent as a; print(a.__file__)"],
                cwd=unpack, env=clean_env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert Path(where.stdout.strip()).is_relative_to(unpack)
            usage = subprocess.run(
                [python, "-S", "-m", "comfyhangar.agent", "run", "--help"],
                cwd=unpack, env=clean_env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert usage.returncode == 0
            assert "--manifest" in usage.stdout
            # Start ComfyUI behind the proxy too (asyncio on this interpreter), then stop.
            serve_flags = [f for f in flags if f != "--skip-start"] + [
                "--proxy-host", "127.0.0.1", "--proxy-port", str(free_port()),
                "--comfyui-port", str(free_port()), "--exit-when-ready",
            ]  # fmt: skip
            launch = pack.pod_launch(
                manifest, root=str(root), extra_args=serve_flags, python=python,
                unpack_dir=str(unpack),
            )  # fmt: skip
            served = subprocess.run(
                ["sh", "-c", launch.args], cwd=tmp_path, env=agent_env(hub) | launch.env,
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert served.returncode == 0, served.stdout + served.stderr
            assert '"step":"ready","status":"done"' in served.stdout
