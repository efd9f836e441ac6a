"""The two formats of the server's log (`HANGAR_LOG_FORMAT`): lines for people, JSON for machines.

`text` (the default)::

    INFO    2026-12-03 12:00:05 http     GET /api/v1/deployments 200 3.1 ms

`json`: one JSON object per line, for a log pipeline (Loki, Elasticsearch, CloudWatch, ...)::

    {"time":"2026-12-03T12:00:05.123Z","level":"INFO","logger":"comfyhangar.requests",
     "component":"http","message":"GET /api/v1/deployments 200 3.1 ms","method":"GET",
     "path":"/api/v1/deployments","status":200,"duration_ms":3.1}

Every object has `time` (UTC, RFC 3339, milliseconds), `level`, `logger`, `component` (the
short name the text format shows) and `message`; a request's line adds the request fields of
`request_log` (`method`, `path` with secret query values as `***`, `status`, `duration_ms`, and
`stream`: `opened` / `closed` for an event or log stream), a failure adds `exception` (its
traceback). Only these fields are written: whatever else a record carries stays out, so the JSON
log says no more than the text log, which never holds a secret.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

# The short name each logger shows as.
COMPONENTS = {"comfyhangar.requests": "http", "comfyhangar.serve": "hangar", "uvicorn": "server"}
#: The attribute of a log record that carries a request's fields (`extra={REQUEST: {...}}`).
REQUEST = "request"
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "stream")


def component(logger: str) -> str:
    """`reconciler` for comfyhangar.server.background.reconciler, `server` for uvicorn.error."""
    for prefix, short in COMPONENTS.items():
        if logger == prefix or logger.startswith(prefix + "."):
            return short
    return logger.rsplit(".", 1)[-1]


class LineFormatter(logging.Formatter):
    """`LEVEL   date time component message`, the component being a short logger name."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)-7s %(asctime)s %(component)-8s %(message)s", "%Y-%m-%d %H:%M:%S"
        )

    def format(self, record: logging.LogRecord) -> str:
        record.component = component(record.name)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module docstring for its fields)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        body: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "component": component(record.name),
            "message": record.getMessage(),
        }
        request = getattr(record, REQUEST, None)
        if isinstance(request, dict):
            body.update({k: request[k] for k in REQUEST_FIELDS if request.get(k) is not None})
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            body["exception"] = self.formatStack(record.stack_info)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def formatter_class(log_format: LogFormat) -> type[logging.Formatter]:
    """The formatter of `HANGAR_LOG_FORMAT`."""
    return JsonFormatter if log_format == "json" else LineFormatter
