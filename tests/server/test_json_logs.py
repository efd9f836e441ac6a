"""`HANGAR_LOG_FORMAT=json`: a real `comfyhangar serve` writes one JSON object per line on
stderr, with time, level, logger and message, and each request's fields; no secret in any."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.robustness.support import server_env
from tests.support.auth import auth_headers
from tests.support.servers import free_port

pytestmark = pytest.mark.slow

SECRET = "hf_" + "Q" * 34  # a Hugging Face token, as a user might paste one into a query


async def wait_healthy(http: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(90):
        while True:
            assert proc.poll() is None, "the server exited at start"
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/api/v1/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def test_json_logs_are_one_object_per_line_with_the_request_fields(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = server_env(tmp_path, None, HANGAR_LOG_FORMAT="json", HANGAR_LOG_LEVEL="info")
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "comfyhangar", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, headers=auth_headers()
        ) as http:
            await wait_healthy(http, proc)
            assert (await http.get(f"/api/v1/gpus?token={SECRET}")).status_code == 200
            assert (await http.get("/api/v1/nope")).status_code == 404
            async with http.stream("GET", f"/api/v1/events?api_key={SECRET}") as stream:
                assert stream.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    text = stderr_path.read_text()
    assert SECRET not in text
    records: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines() if line]
    for record in records:
        assert {"time", "level", "logger", "component", "message"} <= set(record), record
        assert datetime.fromisoformat(record["time"]).utcoffset() is not None
    messages = [r["message"] for r in records]
    assert any(m.startswith("ComfyHangar ") and m.endswith(" is ready") for m in messages)

    requests = [r for r in records if r["logger"] == "comfyhangar.requests"]
    gpus = next(r for r in requests if r["path"].startswith("/api/v1/gpus"))
    assert gpus["level"] == "INFO"
    assert gpus["component"] == "http"
    assert (gpus["method"], gpus["path"], gpus["status"]) == ("GET", "/api/v1/gpus?token=***", 200)
    assert isinstance(gpus["duration_ms"], float)
    assert gpus["message"].startswith("GET /api/v1/gpus?token=*** 200 ")
    missing = next(r for r in requests if r["path"] == "/api/v1/nope")
    assert missing["status"] == 404
    streams = [r for r in requests if r["path"].startswith("/api/v1/events")]
    assert [s["stream"] for s in streams] == ["opened", "closed"]
    assert all(s["path"] == "/api/v1/events?api_key=***" for s in streams)
    assert not any(r["path"] == "/api/v1/health" for r in requests), "passing probes: DEBUG"
