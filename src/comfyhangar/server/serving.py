"""`comfyhangar serve`: the app on uvicorn, with the server's own log.

One format for everything the process logs, at `HANGAR_LOG_LEVEL`: lines by default, or one
JSON object per line with `HANGAR_LOG_FORMAT=json` (`log_format.py`):

    INFO    2026-12-03 12:00:04 hangar   ComfyHangar 0.1.0 is ready
    INFO    2026-12-03 12:00:04 hangar     dashboard  http://127.0.0.1:8000/
    INFO    2026-12-03 12:00:05 http     GET /api/v1/deployments 200 3.1 ms

Once the port is bound, the server says where the dashboard and the API are, whether the cloud
is simulated, and where its data lives; then each request is logged (`request_log`). The
libraries that could log URLs or headers with secrets (httpx, httpcore) stay at WARNING.
"""

from __future__ import annotations

import logging
import logging.config
import socket
from typing import Any

import uvicorn
from sqlalchemy.engine import make_url

from comfyhangar import __version__
from comfyhangar.server.app import API_PREFIX, create_app
from comfyhangar.server.log_format import LineFormatter, LogFormat, formatter_class
from comfyhangar.server.settings import Settings

log = logging.getLogger("comfyhangar.serve")
__all__ = ["LineFormatter", "log_config", "serve", "startup_lines"]

QUIET_LIBRARIES = ("httpx", "httpcore", "hpack", "websockets", "aiosqlite", "asyncio")


def log_config(level: str, log_format: LogFormat = "text") -> dict[str, Any]:
    """The `logging.config.dictConfig` of the server: one stderr handler, in one format
    (`HANGAR_LOG_FORMAT`: lines, or one JSON object per line)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter_class(log_format)}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "comfyhangar": {"level": level},
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            # Requests are logged by `request_log`, with secrets redacted.
            "uvicorn.access": {"level": "WARNING"},
            **{name: {"level": "WARNING"} for name in QUIET_LIBRARIES},
        },
    }


def browsable_host(host: str) -> str:
    """A host for a URL to click: a wildcard address becomes the loopback one."""
    if host in ("", "0.0.0.0"):  # noqa: S104 (naming the wildcard, not binding it)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def startup_lines(settings: Settings, port: int) -> list[str]:
    """What the server says once it listens: its URLs, the cloud, where its data lives."""
    base = f"http://{browsable_host(settings.host)}:{port}"
    listening = (
        f" (listening on every interface, port {port})"
        if settings.host in ("0.0.0.0", "::")  # noqa: S104
        else ""
    )
    if settings.simulated:
        cloud = "simulated: no HANGAR_RUNPOD_API_KEY, the built-in RunPod emulator plays the cloud and nothing is billed"
    else:
        cloud = f"RunPod at {settings.runpod_api_url} (pods bill real money)"
    database = make_url(settings.effective_database_url).render_as_string(hide_password=True)
    return [
        f"ComfyHangar {__version__} is ready{listening}",
        f"  dashboard  {base}/",
        f"  API        {base}{API_PREFIX}  (reference: {base}{API_PREFIX}/docs)",
        f"  cloud      {cloud}",
        f"  data       {settings.data_dir}  (database: {database})",
    ]


class HangarServer(uvicorn.Server):
    """uvicorn, saying where the dashboard is once the port is bound."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:  # the port could not be bound: uvicorn said why
            return
        port = self.settings.port
        for server in self.servers:
            for sock in server.sockets:
                port = int(sock.getsockname()[1])
        for line in startup_lines(self.settings, port):
            log.info("%s", line)


def serve(settings: Settings) -> None:
    """Run the server in the foreground until Ctrl-C or SIGTERM."""
    logging.config.dictConfig(log_config(settings.log_level, settings.log_format))
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # configured above, once for the whole process
        log_level=settings.log_level,
        access_log=False,
    )
    HangarServer(config, settings).run()
