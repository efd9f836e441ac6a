"""Step orchestration without subprocesses: skips, unexpected errors, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from comfyhangar.agent import cli, runner
from comfyhangar.agent.download import DownloadOptions
from comfyhangar.agent.manifest import parse_manifest
from comfyhangar.agent.protocol import Reporter, parse_progress_line
from comfyhangar.agent.service import ServiceOptions
from comfyhangar.agent.sources import Sources

MANIFEST = parse_manifest({"version": 1, "comfyui": {"ref": "v1"}})


def _cfg(tmp_path: Path, skip: set[str]) -> runner.RunConfig:
    return runner.RunConfig(
        root=tmp_path, comfyui_dir=tmp_path / "ComfyUI", python="python3", sources=Sources(),
        download=DownloadOptions(), service=ServiceOptions(), skip=skip, no_gpu_ok=True,
    )  # fmt: skip


class TestRun:
    def test_everything_skipped(self, tmp_path: Path) -> None:
        out = io.StringIO()
        code = runner.run(MANIFEST, _cfg(tmp_path, set(runner.SKIPPABLE)), Reporter(out))
        assert code == runner.EXIT_OK
        lines = [p for p in map(parse_progress_line, out.getvalue().splitlines()) if p]
        assert [(p["step"], p["status"]) for p in lines] == [
            ("preflight", "skipped"), ("comfyui", "skipped"), ("custom_nodes", "skipped"),
            ("models", "skipped"), ("start", "skipped"), ("ready", "done"),
        ]  # fmt: skip

    def test_an_unexpected_error_is_reported_redacted(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def boom(*args: object) -> bool:
            raise RuntimeError("bug near hf_topsecret_1")

        monkeypatch.setattr(runner, "_preflight", boom)
        out = io.StringIO()
        code = runner.run(MANIFEST, _cfg(tmp_path, set()), Reporter(out, ["hf_topsecret_1"]))
        assert code == runner.EXIT_FAILED
        lines = [p for p in map(parse_progress_line, out.getvalue().splitlines()) if p]
        assert lines[0]["step"] == "preflight"
        assert lines[0]["error"] == "RuntimeError: bug near ***"
        assert lines[-1]["step"] == "ready"
        assert lines[-1]["status"] == "failed"
        assert "hf_topsecret_1" not in out.getvalue()


class TestCli:
    def test_schema_and_validate(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert cli.main(["schema"]) == 0
        schema = json.loads(capsys.readouterr().out)
        assert schema["properties"]["version"] == {"const": 1}
        good = tmp_path / "good.json"
        good.write_text(json.dumps({"version": 1, "comfyui": {"ref": "v1"}}))
        assert cli.main(["validate", str(good)]) == 0
        assert json.loads(capsys.readouterr().out)["comfyui"] == {"ref": "v1"}
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"version": 1, "comfyui": {"ref": "-x"}}))
        assert cli.main(["validate", str(bad)]) == 2
        assert "comfyui.ref" in capsys.readouterr().err
