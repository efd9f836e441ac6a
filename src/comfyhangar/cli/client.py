"""A small blocking client of the server's own HTTP API, for the CLI.

Every failure becomes a `CliError` whose message is ready to print: an unreachable server, a
problem+json error (422 lists each field), or a response that is not from ComfyHangar. The event
streams (`/events`, `/logs?follow=1`) reconnect on their own, resuming with `Last-Event-ID`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from comfyhangar.core.backoff import Backoff
from comfyhangar.core.sse import ServerSentEvent, decode_lines

DEFAULT_URL = "http://127.0.0.1:8000"
API = "/api/v1"
REQUEST_TIMEOUT_S = 30.0
# The server sends a keepalive comment every 15 s; three missed ones mean the line is dead.
STREAM_READ_TIMEOUT_S = 45.0
# How long a stream keeps trying to reconnect before it gives up.
RECONNECT_FOR_S = 60.0
# Waits between reconnects: from 0.2 s doubling to 5 s, each between half and all of that.
RECONNECT_BACKOFF = Backoff(0.2, 5.0, jitter=0.5)


class CliError(Exception):
    """An error to show as is (no traceback), with the exit code to leave with."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ServerUnreachableError(CliError):
    """Nothing answers at the server URL."""


class ApiError(CliError):
    """The server answered with a problem+json error."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = dict(problem)
        super().__init__(describe_problem(status, problem))


def describe_problem(status: int, problem: Mapping[str, Any]) -> str:
    """One line for 404/409 and friends; for a 422, one line per bad field."""
    detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
    errors = problem.get("errors")
    if status == 422 and isinstance(errors, list) and errors:
        refused = problem.get("code") == "preflight_failed"
        lines = ["preflight refused it, nothing was created:" if refused else "invalid input:"]
        for err in errors:
            if isinstance(err, Mapping):
                lines.append(f"  {err.get('field', '?')}: {err.get('message', '')}")
        return "\n".join(lines)
    if status >= 500:
        code = problem.get("code", "server_error")
        return f"the server failed ({status} {code}): {detail}"
    return detail


def unreachable_message(base_url: str, exc: Exception | None = None) -> str:
    why = f" ({_short_reason(exc)})" if exc is not None else ""
    return (
        f"cannot reach the ComfyHangar server at {base_url}{why}. "
        "Start it with `comfyhangar serve`, or point HANGAR_URL / --url at it."
    )


def _short_reason(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__


def resolve_base_url(url: str | None) -> str:
    """The server's address from `--url` / `HANGAR_URL`, else the local server.

    The API's own address (`http://host:8000/api/v1`, or any page under it) is taken for the
    server's: everything from `/api/v1` on is dropped.
    """
    base = (url or os.environ.get("HANGAR_URL") or DEFAULT_URL).strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(
            f"the server URL must look like http://127.0.0.1:8000 (got {base!r}): "
            "http:// or https://, then the host"
        )
    if parts.query or parts.fragment:
        raise CliError(f"the server URL takes no query or fragment (got {base!r})")
    path = parts.path
    at = (path + "/").find(API + "/")
    if at >= 0:
        path = path[:at]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class StreamOpened:
    """The stream is (re)connected; `resumed` when it continues from a Last-Event-ID."""

    resumed: bool


class HangarClient:
    """Blocking client of `/api/v1`. Use as a context manager."""

    def __init__(self, base_url: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S)
        self._sleep = sleep

    def __enter__(self) -> HangarClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    # plain requests

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        try:
            response = self._http.request(method, API + path, params=params, json=body)
        except httpx.TransportError as exc:
            raise ServerUnreachableError(unreachable_message(self.base_url, exc)) from None
        self._raise_for_problem(response)
        if response.status_code == 204:
            return None
        return self._json(response)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def upload(self, path: str, filename: str, content: bytes, fields: Mapping[str, str]) -> Any:
        """POST a file (multipart, as `file`) with form `fields`."""
        try:
            response = self._http.post(
                API + path, files={"file": (filename, content)}, data=dict(fields)
            )
        except httpx.TransportError as exc:
            raise ServerUnreachableError(unreachable_message(self.base_url, exc)) from None
        self._raise_for_problem(response)
        return self._json(response)

    def download(self, path: str, destination: Path) -> int:
        """GET `path` (an API path, or a link it gave: `/api/v1/...`) into `destination`,
        written whole or not at all; its size."""
        url = path if path.startswith(API + "/") else API + path
        partial = destination.with_name(destination.name + ".part")
        size = 0
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_problem(response)
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
                        size += len(chunk)
            partial.replace(destination)
        except httpx.TransportError as exc:
            partial.unlink(missing_ok=True)
            raise ServerUnreachableError(unreachable_message(self.base_url, exc)) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return size

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise CliError(self._not_hangar(response)) from None

    def _not_hangar(self, response: httpx.Response) -> str:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        path = response.request.url.path
        return (
            f"{self.base_url} does not look like a ComfyHangar server: {path} answered "
            f"HTTP {response.status_code} ({kind}). --url / HANGAR_URL should be the address "
            f"`comfyhangar serve` prints, such as {DEFAULT_URL}"
        )

    def _raise_for_problem(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            problem = response.json()
        except ValueError:
            problem = None
        # ComfyHangar's errors are problem+json with a `code`; another server's JSON is not.
        if not isinstance(problem, dict) or "code" not in problem or "detail" not in problem:
            raise CliError(self._not_hangar(response))
        if response.status_code == 404 and problem["detail"] == "Not Found":  # no such route
            raise CliError(
                f"{self.base_url} has no {response.request.url.path} (HTTP 404): is it a "
                "ComfyHangar server of this version, and is --url / HANGAR_URL its address?"
            )
        raise ApiError(response.status_code, problem)

    # event streams

    def stream(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        last_event_id: int | None = None,
        on_reconnect: Callable[[str], None] | None = None,
        resume_params: Mapping[str, Any] | None = None,
    ) -> Generator[ServerSentEvent | StreamOpened, None, None]:
        """An SSE stream that reconnects when it drops or ends, resuming with `Last-Event-ID`.

        Yields `StreamOpened` at each (re)connection, then the events. Events whose numeric id
        is not above the last one seen are dropped, so nothing is delivered twice. Gives up with
        `ServerUnreachableError` when the server stays away for `RECONNECT_FOR_S`.
        """
        last = last_event_id
        failures = 0
        opened = False
        down_since: float | None = None
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, read=STREAM_READ_TIMEOUT_S)
        while True:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            query = dict(params or {})
            if opened and resume_params is not None:
                query.update(resume_params)
            reason = "the server closed the stream"
            try:
                with self._http.stream(
                    "GET", API + path, params=query, headers=headers, timeout=timeout
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._raise_for_problem(response)
                    failures, down_since, opened = 0, None, True
                    yield StreamOpened(resumed=last is not None)
                    for event in decode_lines(response.iter_lines()):
                        # Only an event's own id moves the cursor (others carry the last one).
                        if event.own_id and event.id is not None and event.id.isdigit():
                            if last is not None and int(event.id) <= last:
                                continue
                            last = int(event.id)
                        yield event
            except httpx.TransportError as exc:
                reason = f"connection lost ({_short_reason(exc)})"
                if not opened:
                    raise ServerUnreachableError(unreachable_message(self.base_url, exc)) from None
                if down_since is None:
                    down_since = time.monotonic()
                elif time.monotonic() - down_since > RECONNECT_FOR_S:
                    raise ServerUnreachableError(unreachable_message(self.base_url, exc)) from None
            failures += 1
            if on_reconnect is not None:
                on_reconnect(reason)
            self._sleep(RECONNECT_BACKOFF.delay(failures - 1))
