"""The shape of the code, checked: one backoff formula and one SSE decoder in the package."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "comfyhangar"

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
