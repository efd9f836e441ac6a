"""The shape of the code, checked: the layer contracts of ARCHITECTURE.md (import-linter, see
`[tool.importlinter]` in pyproject.toml), one backoff formula and one SSE decoder."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "comfyhangar"
LAYER_CONTRACTS = {
    "core imports nothing of ours",
    "the agent imports nothing of the package (it runs alone on the pod)",
    "emulators import core at most",
    "the CLI talks to the HTTP API, off the server except for serve",
    "routers and background -> services -> runpod, comfyui -> core",
}


def test_the_layer_contracts_hold() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert {c["name"] for c in config["contracts"]} >= LAYER_CONTRACTS
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(config['contracts'])} kept, 0 broken." in result.stdout


#: Places that may keep their own copy, and why.
OWN_COPIES = {
    # The pod agent imports nothing of the package: it runs alone on the pod.
    "agent",
    # The ComfyUI client belongs to the workflows work (issue 16); it moves to core.backoff there.
    "comfyui",
}


def _modules() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] in OWN_COPIES:
            continue
        found.append((relative.as_posix(), path.read_text()))
    return found


def test_one_backoff_formula() -> None:
    doubling = re.compile(r"2(\.0)? \*\* |\* 2\b.*min\(|min\(.*\* 2\b")
    offenders = [
        name
        for name, text in _modules()
        if name != "core/backoff.py"
        for line in text.splitlines()
        if doubling.search(line)
        and not line.lstrip().startswith(("#", "-", "`"))
        and "**n" not in line
    ]
    assert offenders == [], f"a backoff formula outside core/backoff.py: {offenders}"


def test_one_sse_decoder() -> None:
    field_parsing = re.compile(r"""== ["']retry["']|== ["']data["']\s*:""")
    parsers = [name for name, text in _modules() if field_parsing.search(text)]
    assert parsers == ["core/sse.py"]
