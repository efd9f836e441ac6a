"""The `comfyhangar` command line: Typer commands that talk to the server's own HTTP API.

`serve` and `emulator` start servers; every other command is an HTTP client of `HANGAR_URL`.
"""

from __future__ import annotations

import sys

from comfyhangar.cli.app import app
from comfyhangar.server.settings import SettingsError


def main() -> None:
    """Console entry point: runs the Typer app, turning settings errors into a clean exit."""
    try:
        app()
    except SettingsError as exc:
        sys.stderr.write(f"comfyhangar: {exc}\n")
        raise SystemExit(2) from None


__all__ = ["app", "main"]
