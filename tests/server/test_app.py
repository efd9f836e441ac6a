"""The server starts on an embedded SQLite and answers its health check; errors are problem+json."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from comfyhangar.server.app import create_app
from comfyhangar.server.settings import Settings
from tests.support.auth import auth_headers
from tests.support.runpod_emulator import emulator_server
from tests.support.servers import free_port, running_server


def settings_for(tmp_path: Path, **kwargs: object) -> Settings:
    return Settings(data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


async def test_health_reports_database_and_simulated_cloud(tmp_path: Path) -> None:
    async with (
        running_server(create_app(settings_for(tmp_path))) as base,
        httpx.AsyncClient(base_url=base, headers=auth_headers()) as http,
    ):
        response = await http.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["simulated"] is True
    assert body["database"]["ok"] is True
    assert body["runpod"]["ok"] is True, "the embedded emulator answers with its own key"
    assert (tmp_path / "hangar.db").exists(), "the default database is SQLite in the data dir"


async def test_unknown_route_is_problem_json(tmp_path: Path) -> None:
    async with (
        running_server(create_app(settings_for(tmp_path))) as base,
        httpx.AsyncClient(base_url=base, headers=auth_headers()) as http,
    ):
        response = await http.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


@pytest.mark.slow
def test_serve_command_runs_the_app(tmp_path: Path) -> None:
    """The README's run command: `comfyhangar serve` answers /api/v1/health, then stops on SIGTERM.

    Its log says where the dashboard is, that the cloud is simulated and where the data is,
    then one line per request with secrets in the query redacted."""
    port = free_port()
    env = {**os.environ, "HANGAR_DATA_DIR": str(tmp_path)}
    env.pop("HANGAR_RUNPOD_API_KEY", None)
    env.pop("HANGAR_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "comfyhangar", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "") from None
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["simulated"] is True
        httpx.get(
            f"http://127.0.0.1:{port}/api/v1/deployments?token=leakyToken123",
            headers=auth_headers(),
            timeout=5,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert f"dashboard  http://127.0.0.1:{port}/" in output
    assert "simulated: no HANGAR_RUNPOD_API_KEY" in output
    assert f"data       {tmp_path}" in output
    assert "GET /api/v1/health 200 " not in output, "passing health probes are DEBUG only"
    assert "GET /api/v1/deployments?token=*** 200 " in output
    assert "leakyToken123" not in output


async def test_with_a_key_the_server_talks_to_the_configured_runpod(tmp_path: Path) -> None:
    """A key switches off the embedded emulator; HANGAR_RUNPOD_API_URL picks the endpoint."""
    async with emulator_server() as cloud:
        settings = settings_for(
            tmp_path, runpod_api_key=cloud.api_key, runpod_api_url=cloud.base_url
        )
        async with (
            running_server(create_app(settings)) as base,
            httpx.AsyncClient(base_url=base, headers=auth_headers()) as http,
        ):
            body = (await http.get("/api/v1/health")).json()
    assert body["simulated"] is False
    assert body["runpod"]["ok"] is True


async def test_a_wrong_key_shows_as_degraded_health_without_leaking_it(tmp_path: Path) -> None:
    async with emulator_server() as cloud:
        settings = settings_for(
            tmp_path, runpod_api_key="rpa_WRONG_KEY_123", runpod_api_url=cloud.base_url
        )
        async with (
            running_server(create_app(settings)) as base,
            httpx.AsyncClient(base_url=base, headers=auth_headers()) as http,
        ):
            response = await http.get("/api/v1/health")
    body = response.json()
    assert body["status"] == "degraded"
    assert body["runpod"]["ok"] is False
    assert "401" in body["runpod"]["detail"] or "nauthori" in body["runpod"]["detail"]
    assert "rpa_WRONG_KEY_123" not in response.text
