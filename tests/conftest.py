"""Suite-wide fixtures and the CI rule: in CI, nothing may be skipped.

`.ci/run` sets CI=true; there a skipped test (a missing PostgreSQL, Chromium or RunPod spec)
turns the run red instead of passing quietly.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.auth import ADMIN_TOKEN_ENV, CLI_TOKEN_ENV, TEST_ADMIN_TOKEN
from tests.support.databases import fresh_postgres_database, postgres_base_url, sqlite_url

# Every server the suite starts (in this process or in a subprocess) makes its admin with this
# token, and every CLI sends it: tests authenticate with `tests.support.auth.auth_headers()`.
# See tests/support/auth.py.
os.environ[ADMIN_TOKEN_ENV] = TEST_ADMIN_TOKEN
os.environ[CLI_TOKEN_ENV] = TEST_ADMIN_TOKEN

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_skipped: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests against a real ComfyUI run only when `HANGAR_TEST_COMFYUI_URL` names one: they are
    the optional second side of tests whose emulator side always runs, so without it they are
    deselected (reported as such), not skipped."""
    if os.environ.get("HANGAR_TEST_COMFYUI_URL"):
        return
    real = [item for item in items if item.get_closest_marker("real_comfyui")]
    if real:
        config.hook.pytest_deselected(items=real)
        items[:] = [item for item in items if item not in real]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if IN_CI and _skipped:
        terminalreporter.write_line(
            f"CI: {len(_skipped)} test(s) were skipped; in CI every optional part must run:",
            red=True,
        )
        for nodeid in _skipped[:20]:
            terminalreporter.write_line(f"  {nodeid}", red=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL: SQLite always, PostgreSQL when HANGAR_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    async with fresh_postgres_database(postgres_base_url()) as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, for behaviour only PostgreSQL has (LISTEN/NOTIFY, replicas)."""
    async with fresh_postgres_database(postgres_base_url()) as url:
        yield url
