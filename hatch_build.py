"""Hatch build hook: builds the dashboard in web/ into the package.

A no-op while web/package.json does not exist. With HANGAR_SKIP_WEB_BUILD set, npm is not
run (the escape hatch when a front-end error would otherwise block every `uv run`, and how the
container image installs a dashboard its Node stage already built); a build already in place is
still shipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WEB_OUTPUT = "src/comfyhangar/server/static/web"


class WebBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        web = Path(self.root) / "web"
        if os.environ.get("HANGAR_SKIP_WEB_BUILD"):
            if (Path(self.root) / WEB_OUTPUT / "index.html").is_file():
                build_data["artifacts"].append(WEB_OUTPUT + "/")
            return
        if not (web / "package.json").exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("building the dashboard needs Node 20.19+ with npm on PATH")
        lock, stamp = web / "package-lock.json", web / "node_modules" / ".package-lock.json"
        if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=web, check=True)
        subprocess.run([npm, "run", "build"], cwd=web, check=True)
        build_data["artifacts"].append(WEB_OUTPUT + "/")
