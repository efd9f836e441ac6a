"""The account balance: the GraphQL client, the emulator's `/graphql`, and the summary field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.runpod.graphql_balance import (
    BALANCE_QUERY,
    BalanceClient,
    BalanceUnavailable,
    graphql_url_for,
)
from comfyhangar.server.services.billing_check import BalanceReader
from tests.costs.conftest import api, frozen_runtime

KEY = "test-key-123"


def emulator_client(
    emu: RunPodEmulator, *, key: str = KEY, path: str = "/graphql"
) -> BalanceClient:
    return BalanceClient(key, f"http://runpod{path}", transport=httpx.ASGITransport(app=emu.app))


def canned(status: int, body: Any, calls: list[httpx.Request] | None = None) -> BalanceClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request)
        return httpx.Response(status, json=body)

    return BalanceClient(
        KEY, "https://api.runpod.io/graphql", transport=httpx.MockTransport(answer)
    )


def test_graphql_url_is_derived_from_the_rest_url() -> None:
    assert graphql_url_for("https://api.runpod.io/v2") == "https://api.runpod.io/graphql"
    assert graphql_url_for("https://api.runpod.io/v2/") == "https://api.runpod.io/graphql"
    assert graphql_url_for("https://rest.runpod.io/v1") == "https://api.runpod.io/graphql"
    assert graphql_url_for("http://127.0.0.1:9100/v2") == "http://127.0.0.1:9100/graphql"


async def test_balance_is_read_from_the_emulator() -> None:
    emu = RunPodEmulator(EmulatorConfig(api_key=KEY))
    emu.set_balance(123.45)
    async with emulator_client(emu) as client:
        assert await client.balance() == Decimal("123.45")


async def test_emulator_graphql_behaves_like_graphql() -> None:
    emu = RunPodEmulator(EmulatorConfig(api_key=KEY))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app),
        base_url="http://runpod",
        headers={"Authorization": f"Bearer {KEY}"},
    ) as http:
        ok = await http.post("/graphql", json={"query": "query Me { myself { id clientBalance } }"})
        assert ok.status_code == 200
        assert set(ok.json()["data"]["myself"]) == {"id", "clientBalance"}
        unknown = await http.post("/graphql", json={"query": "{ myself { password } }"})
        assert unknown.status_code == 400
        assert "Cannot query field" in unknown.json()["errors"][0]["message"]
        other = await http.post("/graphql", json={"query": "query { gpuTypes { id } }"})
        assert other.status_code == 200
        assert other.json()["errors"]
        assert (await http.post("/graphql", content=b"not json")).status_code == 400
        bad_key = await http.post(
            "/graphql", json={"query": BALANCE_QUERY}, headers={"Authorization": "Bearer nope"}
        )
        assert bad_key.status_code == 401


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, {"errors": [{"message": "Something went wrong."}], "data": None}, "Something went"),
        (200, {"data": {"myself": None}}, "no account"),
        (200, {"data": {"myself": {"clientBalance": "lots"}}}, "not a number"),
        (401, {"errors": [{"message": "Unauthorized"}]}, "rejected the API key"),
        (404, {}, "not found (404)"),
        (410, {}, "retired"),
        (502, {}, "HTTP 502"),
    ],
)
async def test_cannot_read_the_balance_says_why(status: int, body: Any, reason: str) -> None:
    async with canned(status, body) as client:
        with pytest.raises(
            BalanceUnavailable, match=reason.replace("(", r"\(").replace(")", r"\)")
        ):
            await client.balance()


async def test_wrong_path_on_the_emulator_is_a_404_not_a_crash() -> None:
    emu = RunPodEmulator(EmulatorConfig(api_key=KEY))
    async with emulator_client(emu, path="/v2/graphql") as client:
        with pytest.raises(BalanceUnavailable, match="404"):
            await client.balance()


async def test_reader_caches_answers_and_failures() -> None:
    calls: list[httpx.Request] = []
    reader = BalanceReader(canned(200, {"data": {"myself": {"clientBalance": 7.5}}}, calls))
    assert await reader.read() == (Decimal("7.5"), None)
    assert await reader.read() == (Decimal("7.5"), None)
    assert len(calls) == 1
    assert calls[0].headers["authorization"] == f"Bearer {KEY}"
    assert calls[0].read() == b'{"query":"query { myself { clientBalance } }"}'
    await reader.aclose()
    assert await BalanceReader(None).read() == (None, "no RunPod API key to read the balance with")


async def test_summary_shows_the_balance_or_why_not(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        runtime.cloud.emulator.set_balance(42.5)
        summary = (await http.get("/api/v1/costs/summary")).json()
        assert Decimal(summary["balance_usd"]) == Decimal("42.5")
        assert summary["balance_detail"] is None
        check = runtime.billing_check
        assert check is not None
        await check.balance.aclose()
        check.balance = BalanceReader(
            canned(200, {"errors": [{"message": "GraphQL is down"}], "data": None})
        )
        response = await http.get("/api/v1/costs/summary")
        assert response.status_code == 200
        assert response.json()["balance_usd"] is None
        assert "GraphQL is down" in response.json()["balance_detail"]
