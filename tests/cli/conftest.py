"""CLI tests drive `comfyhangar` against a real server (the `hangar` fixture of tests/server)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from comfyhangar.cli import app
from tests.server.conftest import Hangar, hangar

__all__ = ["Cli", "CliResult", "cli", "hangar"]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def both(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """Runs `comfyhangar ARGS` in-process, in a thread (the server runs in the test's loop)."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    async def __call__(self, *args: str, input: str | None = None) -> CliResult:
        return await asyncio.to_thread(self.run, list(args), input)

    def run(self, args: Sequence[str], input: str | None = None) -> CliResult:
        env = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
        if self.url is not None:
            env["HANGAR_URL"] = self.url
        result = CliRunner().invoke(app, list(args), env=env, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(hangar: Hangar) -> Cli:
    return Cli(hangar.base_url)
