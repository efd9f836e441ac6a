"""The contract checker itself: it runs (CI proves it) and it catches violations."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.emulators.conftest import pod_body
from tests.support.runpod_emulator import ContractChecker, EmulatorHandle, emulator_server
from tests.support.servers import running_server
from tests.support.spec import require_spec


async def test_every_exchange_is_checked_against_the_spec(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    require_spec()
    assert handle.checker is not None
    pod = (await client.post("/pods", json=pod_body())).json()
    handle.emu.clock.advance(10)
    for path in ("/pods", f"/pods/{pod['id']}", "/catalog/gpus", "/catalog/datacenters"):
        assert (await client.get(path)).status_code == 200
    assert handle.checker.checked >= 5
    assert handle.checker.violations == []


async def _send_a_request_off_the_spec() -> None:
    agent = {"User-Agent": "comfyhangar/0.1.0"}
    async with emulator_server() as running, running.client(headers=agent) as client:
        bad = await client.post("/pods", json={**pod_body(), "interruptible": True})
        assert bad.status_code == 422


async def test_a_bad_client_request_fails_the_block() -> None:
    require_spec()
    with pytest.raises(AssertionError, match="request POST /v2/pods"):
        await _send_a_request_off_the_spec()


async def test_a_response_off_the_spec_is_recorded() -> None:
    spec = require_spec()

    async def liar(scope: Scope, receive: Receive, send: Send) -> None:
        body = json.dumps({"id": "abc", "status": "SLEEPING"}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    checker = ContractChecker(liar, spec)
    async with running_server(checker, lifespan="off") as url, httpx.AsyncClient() as client:
        await client.get(f"{url}/v2/pods/abc")
        await client.get(f"{url}/v2/nowhere")
    assert len(checker.violations) == 2
    assert "response 200 to GET /v2/pods/abc" in checker.violations[0]
