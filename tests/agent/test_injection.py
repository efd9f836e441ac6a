"""Injection payloads in every manifest field, token and env var: rejected or used literally."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from comfyhangar.agent import cli
from tests.agent.conftest import POD_TOKEN, Repos, agent_cmd, agent_env
from tests.agent.fakehub import FakeHub

FIELDS: list[list[Any]] = [
    ["comfyui", "repo"],
    ["comfyui", "ref"],
    ["custom_nodes", 0, "repo"],
    ["custom_nodes", 0, "ref"],
    ["custom_nodes", 0, "name"],
    ["models", 0, "name"],
    ["models", 0, "folder"],
    ["models", 0, "sha256"],
    ["models", 0, "source", "repo"],
    ["models", 0, "source", "file"],
    ["models", 0, "source", "revision"],
    ["models", 1, "source", "url"],
    ["models", 2, "source", "version_id"],
    ["pip", 0],
]


def payloads(marker: Path) -> list[str]:
    return [
        f"$(touch {marker})",
        f"; touch {marker}",
        f"`touch {marker}`",
        f"--upload-pack=touch {marker}",
        f"-c core.sshCommand=touch {marker}",
        "../../etc/passwd",
        f"main\ntouch {marker}",
        f"x | touch {marker}",
        f"x && touch {marker}",
        f"ext::sh -c touch% {marker}",
        f"https://127.0.0.1/$(touch {marker})",
        f"--index-url=file://{marker}",
    ]


def _base(repos: Repos) -> dict[str, Any]:
    return {
        "version": 1,
        "comfyui": {"repo": repos.comfyui, "ref": "v1.0"},
        "custom_nodes": [{"name": "n", "repo": repos.good, "ref": "main"}],
        "models": [
            {"folder": "vae", "source": {"type": "huggingface", "repo": "a/b", "file": "c.bin"}},
            {
                "folder": "vae",
                "name": "d.bin",
                "source": {"type": "url", "url": "http://127.0.0.1/d"},
            },
            {"folder": "loras", "name": "e.bin", "source": {"type": "civitai", "version_id": 1}},
        ],
        "pip": ["hangar-extra==2.0"],
    }


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


class TestInjection:
    @pytest.mark.parametrize("field", FIELDS, ids=lambda f: ".".join(map(str, f)))
    def test_every_field_rejects_every_payload(
        self, field: list[Any], tmp_path: Path, repos: Repos, capsys: pytest.CaptureFixture[str]
    ) -> None:
        marker = tmp_path / "PWNED"
        for payload in payloads(marker):
            manifest = tmp_path / "m.json"
            manifest.write_text(json.dumps(_set(_base(repos), field, payload)))
            code = cli.main(
                ["run", "--manifest", str(manifest), "--root", str(tmp_path / "root"),
                 "--insecure-allow-http", "--allow-host", "127.0.0.1", "--skip-start"]
            )  # fmt: skip
            assert code == 2, f"{field} accepted {payload!r}"
            assert not marker.exists()
        out = capsys.readouterr().out
        assert out.count("invalid input") >= len(payloads(marker))
        assert not (tmp_path / "root").exists()

    def test_tokens_are_used_literally_and_never_printed(
        self, tmp_path: Path, hub: FakeHub, repos: Repos, pod_python: str, wheels: Path
    ) -> None:
        marker = tmp_path / "PWNED"
        hub.add_hf("a/b", "c.bin", b"abc" * 100, gated=True)
        hub.add_civitai(1, b"def" * 100, gated=True)
        doc = _base(repos)
        doc["custom_nodes"], doc["pip"] = [], []
        doc["models"] = [doc["models"][0], doc["models"][2]]
        evil_hf, evil_civ = f"$(touch${{IFS}}{marker})", f"`touch${{IFS}}{marker}`;x"
        cmd = agent_cmd(doc, tmp_path, hub, pod_python, wheels, "--skip-start")
        env = agent_env(hub, HF_TOKEN=evil_hf, CIVITAI_TOKEN=evil_civ)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1  # both gated downloads refused with the literal tokens
        assert not marker.exists()
        assert set(hub.header_values("hub", "authorization")) == {
            f"Bearer {evil_hf}", f"Bearer {evil_civ}",
        }  # fmt: skip
        for secret in (evil_hf, evil_civ, POD_TOKEN):
            assert secret not in result.stdout + result.stderr
        assert "HF_TOKEN" in result.stdout

    @pytest.mark.parametrize(
        ("var", "value"),
        [
            ("HF_TOKEN", "hf_abc\r\nX-Evil: 1"),
            ("HF_TOKEN", "$(touch {marker})"),
            ("CIVITAI_TOKEN", "tok\ntouch"),
            ("HANGAR_POD_TOKEN", "$(touch {marker})"),
            ("HANGAR_POD_TOKEN", "short"),
        ],
    )
    def test_bad_env_values_are_refused(
        self, var: str, value: str, tmp_path: Path, hub: FakeHub, repos: Repos,
        pod_python: str, wheels: Path,
    ) -> None:  # fmt: skip
        marker = tmp_path / "PWNED"
        value = value.format(marker=marker)
        cmd = agent_cmd(_base(repos), tmp_path, hub, pod_python, wheels)
        result = subprocess.run(
            cmd, env=agent_env(hub, **{var: value}), capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 2
        assert "invalid input" in result.stdout
        assert value not in result.stdout + result.stderr
        assert not marker.exists()
