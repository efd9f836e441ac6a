"""`GET /deployments/{id}/logs`: the tail, following, and resuming without repeats or gaps."""

from __future__ import annotations

import asyncio
import json

from tests.server.conftest import FLUX_DEPLOY, Hangar


async def _deployment_with_log(hangar: Hangar, at_least: int) -> tuple[str, list[dict]]:
    dep = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()
    await hangar.wait_for(dep["id"], "ready")
    lines: list[dict] = []
    async with asyncio.timeout(20):
        while len(lines) < at_least:
            tail = await hangar.http.get(f"/api/v1/deployments/{dep['id']}/logs?lines=2000")
            lines = tail.json()["lines"]
            await asyncio.sleep(0.1)
    return dep["id"], lines


async def _first_streamed_ids(
    hangar: Hangar, url: str, headers: dict[str, str], n: int
) -> list[int]:
    ids: list[int] = []
    async with asyncio.timeout(10), hangar.http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        async for raw in response.aiter_lines():
            if raw.startswith("id:"):
                ids.append(int(raw.removeprefix("id:").strip()))
            if len(ids) == n:
                break
    return ids


async def test_following_resumes_after_the_last_event_id(hangar: Hangar) -> None:
    dep_id, lines = await _deployment_with_log(hangar, at_least=6)
    ids = [line["id"] for line in lines]
    url = f"/api/v1/deployments/{dep_id}/logs?follow=1&lines=500"
    # A fresh follow replays the tail from its first line.
    assert await _first_streamed_ids(hangar, url, {}, 3) == ids[:3]
    # A reconnect that saw the third line gets the fourth next: nothing repeated or skipped.
    resumed = await _first_streamed_ids(hangar, url, {"Last-Event-ID": str(ids[2])}, 3)
    assert resumed == ids[3:6]


async def test_after_pages_forward_through_the_log(hangar: Hangar) -> None:
    dep_id, lines = await _deployment_with_log(hangar, at_least=6)
    ids = [line["id"] for line in lines]
    page = await hangar.http.get(f"/api/v1/deployments/{dep_id}/logs?after={ids[1]}&lines=3")
    assert [line["id"] for line in page.json()["lines"]] == ids[2:5]
    data = json.loads(page.text)
    assert data["deployment_id"] == dep_id


async def test_resuming_an_unknown_deployment_is_404(hangar: Hangar) -> None:
    response = await hangar.http.get("/api/v1/deployments/nope/logs?follow=1&after=3")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
