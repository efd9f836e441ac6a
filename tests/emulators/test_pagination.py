"""Cursor pagination of GET /v2/pods, stable across creates and terminations between pages."""

from __future__ import annotations

import httpx

from comfyhangar.emulators.runpod import EmulatorConfig
from tests.emulators.conftest import FROZEN, KEY, pod_body
from tests.support.runpod_emulator import emulator_server


async def _page(client: httpx.AsyncClient, cursor: str | None) -> tuple[list[str], str | None]:
    params = {"cursor": cursor} if cursor else {}
    body = (await client.get("/pods", params=params)).json()
    pagination = body["pagination"]
    assert pagination["hasNextPage"] == (pagination["nextCursor"] is not None)
    return [p["id"] for p in body["pods"]], pagination["nextCursor"]


async def test_pages_stay_stable_while_pods_come_and_go() -> None:
    config = EmulatorConfig(api_key=KEY, seed=3, speed=FROZEN, page_size=3)
    async with emulator_server(config) as running, running.client() as client:
        ids = [
            (await client.post("/pods", json=pod_body(name=f"p{i}"))).json()["id"] for i in range(7)
        ]
        first, cursor = await _page(client, None)
        assert first == ids[:3]
        # Between pages: one pod already seen and one not yet seen go away, two new ones come.
        await client.delete(f"/pods/{ids[1]}")
        await client.delete(f"/pods/{ids[4]}")
        ids.append((await client.post("/pods", json=pod_body(name="p7"))).json()["id"])
        ids.append((await client.post("/pods", json=pod_body(name="p8"))).json()["id"])
        second, cursor = await _page(client, cursor)
        assert second == [ids[3], ids[5], ids[6]]
        third, cursor = await _page(client, cursor)
        assert third == [ids[7], ids[8]]
        assert cursor is None
        seen = first + second + third
        assert len(seen) == len(set(seen))
        assert set(ids) - set(seen) == {ids[4]}


async def test_bad_cursor_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/pods", params={"cursor": "!!nonsense"})
    assert response.status_code == 400
    assert response.json()["detail"] == "invalid cursor"
    empty = (await client.get("/pods")).json()
    assert empty == {"pods": [], "pagination": {"nextCursor": None, "hasNextPage": False}}
