"""The server's own log: one line per request (secrets in the query redacted), a line when a
stream opens and one when it closes, what `serve` says at start, and embedded servers that leave
the process's logging alone."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from comfyhangar.server.loopback import serve_on_loopback
from comfyhangar.server.request_log import redacted_target
from comfyhangar.server.serving import LineFormatter, startup_lines
from tests.server.conftest import fast_settings, running_hangar

SECRET = "s3cretPodToken0123456789"


async def logged(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 10) -> str:
    """The first request-log message containing `text` (waits for it)."""
    async with asyncio.timeout(timeout):
        while True:
            for record in caplog.records:
                if record.name == "comfyhangar.requests" and text in record.getMessage():
                    return record.getMessage()
            await asyncio.sleep(0.01)


async def test_each_request_is_logged_with_query_secrets_redacted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="comfyhangar.requests")
    async with running_hangar(fast_settings(tmp_path)) as hangar:
        await hangar.http.get(f"/api/v1/gpus?token={SECRET}&cloud=SECURE")
        await hangar.http.get(f"/api/v1/deployments?state=ready&api_key={SECRET}")
        await hangar.http.get("/api/v1/health")  # a passing probe: DEBUG only
        await hangar.http.get("/api/v1/nope")
        gpus = await logged(caplog, "GET /api/v1/gpus")
        assert gpus.startswith("GET /api/v1/gpus?token=***&cloud=SECURE 200 ")
        assert gpus.endswith(" ms")
        assert (await logged(caplog, "/api/v1/deployments")).startswith(
            "GET /api/v1/deployments?state=ready&api_key=*** 200 "
        )
        assert (await logged(caplog, "/api/v1/nope")).startswith("GET /api/v1/nope 404 ")
        assert not any("/api/v1/health" in r.getMessage() for r in caplog.records)

        async with hangar.http.stream("GET", f"/api/v1/events?token={SECRET}") as stream:
            assert stream.status_code == 200
            opened = await logged(caplog, "stream opened")
            assert opened == "GET /api/v1/events?token=*** stream opened (200)"
            assert not any("stream closed" in r.getMessage() for r in caplog.records)
        closed = await logged(caplog, "stream closed")
        assert closed.startswith("GET /api/v1/events?token=*** stream closed after ")
        events = [r for r in caplog.records if "/api/v1/events" in r.getMessage()]
        assert len(events) == 2, "one line when it opens, one when it closes: no keepalives"
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_secret_query_values_are_redacted_and_the_rest_kept() -> None:
    assert redacted_target("/open", "") == "/open"
    assert redacted_target("/x", f"token={SECRET}") == "/x?token=***"
    assert redacted_target("/x", f"a=1&HF_TOKEN={SECRET}&b=two%20words") == (
        "/x?a=1&HF_TOKEN=***&b=two%20words"
    )
    for name in ("api_key", "apiKey", "X-Amz-Signature", "password", "client_secret", "auth"):
        assert SECRET not in redacted_target("/x", f"{name}={SECRET}"), name
    assert redacted_target("/logs", "lines=200&follow=1&after=41") == (
        "/logs?lines=200&follow=1&after=41"
    )


async def test_an_embedded_server_leaves_the_process_logging_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The embedded emulator's uvicorn once reset uvicorn's loggers to WARNING, which silenced
    everything `serve` logged after "Waiting for application startup"."""
    caplog.set_level(logging.INFO)
    watched = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.access", "uvicorn")]
    for logger in watched:
        logger.setLevel(logging.INFO)

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        raise AssertionError("not called")

    try:
        async with serve_on_loopback(app, lifespan="off") as base:
            assert base.startswith("http://127.0.0.1:")
            assert [logger.level for logger in watched] == [logging.INFO] * 3
        logging.getLogger("uvicorn.error").info("the host server still speaks")
    finally:
        for logger in watched:
            logger.setLevel(logging.NOTSET)
    messages = [r.getMessage() for r in caplog.records]
    assert "the host server still speaks" in messages
    assert not any(m.startswith("Started server process") for m in messages), (
        "a nested server's chatter stays out of the host's log"
    )


def test_serve_says_where_the_dashboard_is_what_the_cloud_is_and_where_the_data_is(
    tmp_path: Path,
) -> None:
    simulated = startup_lines(fast_settings(tmp_path, port=8123), 8123)
    assert simulated[0].startswith("ComfyHangar ")
    assert "  dashboard  http://127.0.0.1:8123/" in simulated
    assert any("http://127.0.0.1:8123/api/v1/docs" in line for line in simulated)
    assert any("simulated" in line and "nothing is billed" in line for line in simulated)
    assert any(str(tmp_path) in line and "data" in line for line in simulated)

    everywhere = startup_lines(
        fast_settings(
            tmp_path,
            host="0.0.0.0",  # noqa: S104
            runpod_api_key=SecretStr("rpa_KEY_NEVER_SHOWN"),
            database_url="postgresql+asyncpg://hangar:dbPassw0rd@db:5432/hangar",
        ),
        9000,
    )
    text = "\n".join(everywhere)
    assert "  dashboard  http://127.0.0.1:9000/" in everywhere, "a URL one can click"
    assert "listening on every interface" in text
    assert "pods bill real money" in text
    for secret in ("rpa_KEY_NEVER_SHOWN", "dbPassw0rd"):
        assert secret not in text
    assert "  dashboard  http://[::1]:9000/" in startup_lines(
        fast_settings(tmp_path, host="::"), 9000
    )


def test_the_line_format_names_the_level_first_then_time_and_component() -> None:
    record = logging.LogRecord(
        "comfyhangar.requests", logging.INFO, __file__, 1, "GET / 200 1.0 ms", None, None
    )
    line = LineFormatter().format(record)
    level, date, clock, component, message = line.split(maxsplit=4)
    assert (level, component, message) == ("INFO", "http", "GET / 200 1.0 ms")
    assert len(date) == 10
    assert len(clock) == 8
    background = logging.LogRecord(
        "comfyhangar.server.background.reconciler", logging.WARNING, __file__, 1, "m", None, None
    )
    assert LineFormatter().format(background).split()[3] == "reconciler"


def test_the_json_format_writes_only_its_own_fields_and_the_traceback() -> None:
    from comfyhangar.server.log_format import JsonFormatter

    try:
        raise RuntimeError("cycle failed")
    except RuntimeError:
        import sys

        failure = sys.exc_info()
    record = logging.LogRecord(
        "comfyhangar.server.background.reconciler",
        logging.ERROR,
        __file__,
        1,
        "a %s",
        ("b",),
        failure,
    )
    record.token = SECRET  # whatever else a record carries stays out
    line = JsonFormatter().format(record)
    assert "\n" not in line
    body = json.loads(line)
    assert set(body) == {"time", "level", "logger", "component", "message", "exception"}
    assert (body["level"], body["component"], body["message"]) == ("ERROR", "reconciler", "a b")
    assert "RuntimeError: cycle failed" in body["exception"]
    assert SECRET not in line
