"""The RunPod emulator on a real socket, with every exchange checked against RunPod's spec.

`emulator_server()` serves a `RunPodEmulator` on uvicorn behind `ContractChecker`, an ASGI
middleware that validates each response (status, content type, JSON body; SSE: status and
content type) with the published REST v2 OpenAPI document, and the JSON body of each request
sent by our own client (`User-Agent: comfyhangar/...`). Any violation fails the test when the
block exits, so every test that talks to the emulator is also a contract test. Without the
spec (never in CI) checking is off.

In a conftest: `from tests.support.runpod_emulator import runpod_emulator  # noqa: F401`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comfyhangar.emulators.hub import HubEmulator
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from tests.support.asgi import read_body
from tests.support.servers import running_server
from tests.support.spec import SPEC_PATH, RunPodSpec, SpecViolation, load_spec

CLIENT_AGENT_PREFIX = "comfyhangar/"
DEFAULT_KEY = "test-runpod-key"


class ContractChecker:
    """ASGI middleware recording every spec violation of the wrapped RunPod-like app."""

    def __init__(self, app: ASGIApp, spec: RunPodSpec) -> None:
        self.app = app
        self.spec = spec
        self.violations: list[str] = []
        self.checked = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        agent = dict(scope["headers"]).get(b"user-agent", b"").decode()
        # Read the whole request first (the app may answer without reading it, as for a 403),
        # then hand it over unchanged.
        request_body, receive_and_keep = await read_body(receive)

        response: dict[str, Any] = {"body": bytearray()}

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
                response["content_type"] = headers.get("content-type")
                if (response["content_type"] or "").startswith("text/event-stream"):
                    self._check_response(method, path, response, streaming=True)
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
                response["complete"] = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive_and_keep, send_and_keep)
        if agent.startswith(CLIENT_AGENT_PREFIX):
            self._check_request(method, path, request_body)
        content_type = response.get("content_type") or ""
        if response.get("complete") and not content_type.startswith("text/event-stream"):
            # An incomplete response is one dropped on purpose: nothing whole to check.
            self._check_response(method, path, response, streaming=False)

    def _record(self, what: str, error: Exception) -> None:
        self.violations.append(f"{what}: {error}")

    def _check_request(self, method: str, path: str, raw: bytes) -> None:
        try:
            self.spec.operation(method, path)
        except SpecViolation:
            return  # the client called a path the spec lacks: the response check reports it
        try:
            body = json.loads(raw) if raw else None
            self.spec.validate_request(method, path, body)
        except (ValueError, SpecViolation) as error:
            self._record(f"request {method} {path}", error)

    def _check_response(
        self, method: str, path: str, response: dict[str, Any], *, streaming: bool
    ) -> None:
        self.checked += 1
        status, content_type = response["status"], response["content_type"]
        what = f"response {status} to {method} {path}"
        try:
            self.spec.operation(method, path)
        except SpecViolation as error:
            # Unknown paths and methods still get problem+json: 404/405/501 (or 401/429, which
            # are decided before routing).
            problem = (content_type or "").startswith("application/problem+json")
            if status not in (401, 404, 405, 429, 501) or not problem:
                self._record(what, error)
            return
        try:
            raw = bytes(response["body"])
            body = None if streaming or not raw else json.loads(raw)
            self.spec.validate_response(method, path, status, content_type, body)
        except (ValueError, SpecViolation) as error:
            self._record(what, error)


@dataclass
class EmulatorHandle:
    """A running emulator: `emu` to steer it, `base_url` (ends in /v2) and `api_key` to call."""

    emu: RunPodEmulator
    base_url: str
    api_key: str
    checker: ContractChecker | None = field(default=None, repr=False)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client on `base_url` with the bearer key (test agent, no request check)."""
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, **kwargs)


@contextlib.asynccontextmanager
async def emulator_server(
    config: EmulatorConfig | None = None, *, hub: HubEmulator | None = None
) -> AsyncIterator[EmulatorHandle]:
    """Serve a fresh emulator on a real port; fail on exit if any exchange broke the spec.
    `hub`: the stand-ins its simulated pods download from (serve them too)."""
    config = config or EmulatorConfig(api_key=DEFAULT_KEY, seed=1234)
    emu = RunPodEmulator(config, hub=hub)
    checker = ContractChecker(emu.app, load_spec()) if SPEC_PATH.exists() else None
    try:
        async with running_server(checker or emu.app) as url:
            yield EmulatorHandle(emu, f"{url}/v2", config.api_key or DEFAULT_KEY, checker)
    finally:
        await emu.comfyui.aclose()  # the pods' ComfyUI instances, if any were opened
        emu.close()  # releases `config.state_path` (a no-op in memory)
    if checker is not None and checker.violations:
        listing = "\n".join(checker.violations[:20])
        raise AssertionError(f"{len(checker.violations)} RunPod contract violation(s):\n{listing}")


@pytest.fixture
async def runpod_emulator() -> AsyncIterator[EmulatorHandle]:
    """A contract-checked emulator (key `test-runpod-key`, seed 1234, real-time clock)."""
    async with emulator_server() as handle:
        yield handle
