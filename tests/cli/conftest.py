"""CLI tests drive `comfyhangar` against a real server (the `hangar` fixture of tests/server).

`hangar` gives each test a server of its own; `shared_hangar` one server for a whole module
(tests that use it run in the module's event loop and give their deployments names of their own).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from comfyhangar.cli import app
from tests.server.conftest import Hangar, fast_settings, hangar, running_hangar

__all__ = ["Cli", "CliResult", "cli", "hangar", "shared_hangar"]

# Tokens of the developer's shell must not reach the tests' deployments.
NO_TOKENS: dict[str, str | None] = {"HF_TOKEN": None, "CIVITAI_TOKEN": None}


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def both(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """Runs `comfyhangar ARGS` in-process, in a thread (the server runs in the test's loop),
    on a terminal `columns` wide."""

    def __init__(self, url: str | None, *, columns: int = 200) -> None:
        self.url = url
        self.columns = columns

    async def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None
    ) -> CliResult:
        return await asyncio.to_thread(self.run, list(args), input, env)

    def run(
        self,
        args: Sequence[str],
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> CliResult:
        environment: dict[str, str | None] = {
            "COLUMNS": str(self.columns),
            "NO_COLOR": "1",
            "TERM": "dumb",
            **NO_TOKENS,
            **(env or {}),
        }
        if self.url is not None:
            environment["HANGAR_URL"] = self.url
        result = CliRunner().invoke(app, list(args), env=environment, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(hangar: Hangar) -> Cli:
    return Cli(hangar.base_url)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_hangar(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hangar]:
    """One server for every test of a module."""
    async with running_hangar(fast_settings(tmp_path_factory.mktemp("hangar"))) as hangar:
        yield hangar
