"""Progress protocol: one JSON object per stdout line behind a fixed prefix.

The agent writes lines such as::

    ##hangar-progress## {"v":1,"step":"models","status":"running","bytes_done":1,...}

next to ordinary human-readable lines. The control plane reads them back from the pod's log
stream with :func:`parse_progress_line`, which never raises. See docs/agent-progress-protocol.md.

Standard library only: this module is imported both by the agent on the pod and by the server.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import IO, Any

PREFIX = "##hangar-progress##"
VERSION = 1
STEPS = ("preflight", "comfyui", "custom_nodes", "models", "start", "ready")
STATUSES = ("started", "running", "done", "failed", "skipped")
_INT_FIELDS = ("bytes_done", "bytes_total", "items_done", "items_total")
_NUM_FIELDS = ("speed_bps", "eta_s")
_STR_FIELDS = ("message", "item", "time", "error", "run")
REDACTED = "***"
MIN_RUNNING_INTERVAL_S = 0.5


def now_rfc3339() -> str:
    """The current UTC time as an RFC 3339 string with a `Z` suffix."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: UP017


def format_progress_line(step: str, status: str, **fields: Any) -> str:
    """Build one progress line (no trailing newline); `None` fields are left out."""
    body: dict[str, Any] = {"v": VERSION, "step": step, "status": status}
    body.update({k: v for k, v in fields.items() if v is not None})
    body.setdefault("time", now_rfc3339())
    return f"{PREFIX} {json.dumps(body, separators=(',', ':'), ensure_ascii=True)}"


def parse_progress_line(line: str) -> dict[str, Any] | None:
    """Return the progress object carried by `line`, or None if it carries none.

    The prefix may come after other text (a log timestamp, say). The object must be a JSON
    object with `v == 1`, a known `step` and `status`; numeric and string fields of the wrong
    type make the line invalid. Unknown extra fields are kept (forward compatibility).
    """
    at = line.find(PREFIX)
    if at < 0:
        return None
    try:
        body = json.loads(line[at + len(PREFIX) :].strip())
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("v") != VERSION:
        return None
    if body.get("step") not in STEPS or body.get("status") not in STATUSES:
        return None
    for key in _INT_FIELDS:
        value = body.get(key)
        if value is not None and (type(value) is not int or value < 0):
            return None
    for key in _NUM_FIELDS:
        value = body.get(key)
        if value is not None and (type(value) not in (int, float) or value < 0):
            return None
    for key in _STR_FIELDS:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            return None
    return body


def new_run_id() -> str:
    """A fresh id for one run of the agent (16 hex digits)."""
    return secrets.token_hex(8)


class Reporter:
    """Writes progress and log lines to a stream, redacting secrets and throttling updates.

    Thread-safe. `running` updates of one step are limited to one per 0.5 s; every other
    status is written at once. Every string that passes through is redacted: each registered
    secret is replaced by `***`. Every progress line carries `run`, the same for the whole
    process and new for each start of the agent, so the reader knows when a new run began.
    """

    def __init__(
        self, stream: IO[str] | None = None, secrets: Iterable[str] = (), run: str | None = None
    ) -> None:
        self.run = run or new_run_id()
        self._stream = stream if stream is not None else sys.stdout
        self._secrets: list[str] = []
        self._lock = threading.Lock()
        self._last_running: dict[str, float] = {}
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        """Never print `secret` (nor its URL-quoted form) from now on."""
        from urllib.parse import quote

        for form in (secret, quote(secret, safe="")):
            if form and len(form) >= 4 and form not in self._secrets:
                self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every registered secret replaced by `***`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def progress(self, step: str, status: str, *, force: bool = False, **fields: Any) -> bool:
        """Emit one progress line; returns False if a throttled `running` line was dropped."""
        clean = {k: self.redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        with self._lock:
            if status == "running" and not force:
                now = time.monotonic()
                if now - self._last_running.get(step, -1e9) < MIN_RUNNING_INTERVAL_S:
                    return False
                self._last_running[step] = now
            self._write(format_progress_line(step, status, **clean, run=self.run))
        return True

    def log(self, message: str, source: str = "hangar") -> None:
        """Emit one human-readable line, prefixed `[hangar]` (or `[source]`).

        The line is redacted, folded onto one line, and can never pass for a progress line.
        """
        text = " ".join(self.redact(message).splitlines()).replace(PREFIX, "#hangar-progress#")
        with self._lock:
            self._write(f"[{source}] {text}")

    def _write(self, line: str) -> None:
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed stdout must not kill the agent
            pass
