"""Rate limits and injected faults: 429 + headers, 5xx, latency, lost create responses."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from comfyhangar.emulators.runpod import EmulatorConfig
from tests.emulators.conftest import FROZEN, KEY, pod_body
from tests.support.runpod_emulator import EmulatorHandle, emulator_server


async def test_rate_limit_headers_and_429() -> None:
    config = EmulatorConfig(api_key=KEY, speed=FROZEN, rate_limit_per_minute=3)
    async with emulator_server(config) as running, running.client() as client:
        first = await client.get("/pods")
        assert re.fullmatch(
            r'"minute";r=2;t=\d+, "hour";r=\d+;t=\d+, "day";r=\d+;t=\d+', first.headers["RateLimit"]
        )
        assert first.headers["RateLimit-Policy"] == (
            '"minute";q=3;w=60, "hour";q=100000;w=3600, "day";q=1000000;w=86400'
        )
        await client.get("/pods")
        await client.get("/pods")
        limited = await client.get("/pods")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json() == {
            "title": "Too Many Requests",
            "status": 429,
            "detail": "rate limit exceeded for the minute window",
        }
        assert limited.headers["RateLimit"].startswith('"minute";r=0;')


async def test_injected_429_burst(handle: EmulatorHandle, client: httpx.AsyncClient) -> None:
    handle.emu.faults.burst_429(2, retry_after=7)
    for _ in range(2):
        response = await client.post("/pods", json=pod_body())
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert "RateLimit" in response.headers
    assert (await client.post("/pods", json=pod_body())).status_code == 201
    assert len(handle.emu.pods) == 1


async def test_error_rate_gives_5xx_without_side_effects(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    handle.emu.faults.error_rate = 1.0
    statuses = set()
    for _ in range(12):
        response = await client.post("/pods", json=pod_body())
        assert response.headers["content-type"] == "application/problem+json"
        statuses.add(response.status_code)
    assert statuses <= {500, 502, 503}
    assert len(statuses) > 1
    assert handle.emu.pods == []
    handle.emu.faults.error_rate = 0.0
    assert (await client.get("/pods")).status_code == 200


async def test_latency(handle: EmulatorHandle, client: httpx.AsyncClient) -> None:
    handle.emu.faults.latency_s = 0.2
    started = time.monotonic()
    assert (await client.get("/pods")).status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_lost_create_drops_the_connection_but_the_pod_exists(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    faults = handle.emu.faults
    faults.lose_create_responses = 1.0
    faults.lost_create_modes = ("drop",)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/pods", json=pod_body(name="lost-1"))
    pods = (await client.get("/pods")).json()["pods"]
    assert [p["name"] for p in pods] == ["lost-1"]
    handle.emu.clock.advance(3600)
    billed = (await client.get("/billing/pods")).json()["metadata"]["totals"]["totalAmount"]
    assert billed > 0


async def test_lost_create_as_gateway_error_or_stall(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    faults = handle.emu.faults
    faults.lose_create_responses = 1.0
    faults.lost_create_modes = ("gateway",)
    response = await client.post("/pods", json=pod_body(name="lost-2"))
    assert response.status_code in (502, 504)
    assert response.headers["content-type"] == "application/problem+json"
    faults.lost_create_modes = ("stall",)
    faults.stall_s = 1.0
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/pods", json=pod_body(name="lost-3"), timeout=0.2)
    assert sorted(p["name"] for p in handle.emu.pods) == ["lost-2", "lost-3"]


async def test_new_pods_can_lag_behind_their_create(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    handle.emu.faults.propagation_s = 2.0
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    assert (await client.get(f"/pods/{pod_id}")).status_code == 404
    assert (await client.get("/pods")).json()["pods"] == []
    assert (await client.delete(f"/pods/{pod_id}")).status_code == 404
    handle.emu.clock.advance(2)
    assert (await client.get(f"/pods/{pod_id}")).status_code == 200
    assert [p["id"] for p in (await client.get("/pods")).json()["pods"]] == [pod_id]
