"""Where the reference conversions live, and how to read them (no browser needed).

The recordings under `fixtures/frontend/` are made by `record_conversions.py` from a real ComfyUI
frontend; the UI inputs are the templates of the installed `comfyui-workflow-templates` package
(a dev dependency) and the hand-made graphs under `fixtures/traps/`. The `/object_info` they were
recorded against is the shared snapshot in `../shared/fixtures/comfyui/`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
TRAPS_DIR = FIXTURES / "traps"
RECORDINGS = FIXTURES / "frontend"
LAYOUTS = RECORDINGS / "node_layouts.json"
SHARED_OBJECT_INFO = (
    HERE.parents[1].parent / "shared" / "fixtures" / "comfyui" / "object_info-0.3.64.json"
)
RECORDED_AT = datetime(2025, 10, 11, 12, 34, 56, tzinfo=UTC)
"""The frozen clock of every recording (the page ran in UTC)."""


def canonical_sha256(document: Any) -> str:
    """sha256 of a JSON document with sorted keys: the same for the same data, however sent."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def templates_dir() -> Path:
    """`comfyui_workflow_templates/templates` of the installed package."""
    return Path(str(resources.files("comfyui_workflow_templates") / "templates"))


def template_files() -> list[Path]:
    """The UI workflows of the package (its index files are not workflows)."""
    return sorted(p for p in templates_dir().glob("*.json") if not p.name.startswith("index"))


def recordings(kind: str) -> list[Path]:
    """Recorded conversions of `kind` ("templates" or "traps")."""
    return sorted((RECORDINGS / kind).glob("*.api.json"))


def recorded_input(kind: str, recording: dict[str, Any]) -> dict[str, Any]:
    """The UI workflow a recording was made from."""
    folder = templates_dir() if kind == "templates" else TRAPS_DIR
    loaded: dict[str, Any] = json.loads((folder / recording["source"]).read_text())
    return loaded
