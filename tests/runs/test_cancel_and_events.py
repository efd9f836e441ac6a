"""Cancelling touches only the run's own prompt; run events stream with the state changes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.runs.conftest import World, txt2img
from tests.support.auth import auth_headers


async def _until(world: World, run_id: str, check: Any, timeout: float = 30.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            view: dict[str, Any] = (await world.http.get(f"/api/v1/runs/{run_id}")).json()
            if check(view):
                return view
            await asyncio.sleep(0.02)


async def test_cancel_interrupts_the_running_run_and_withdraws_a_waiting_one(world: World) -> None:
    long = await world.run(prompt=txt2img(seed=1, steps=10_000))
    waiting = await world.run(prompt=txt2img(seed=2, steps=10_000))
    after = await world.run(prompt=txt2img(seed=3, steps=2))
    first, second, third = (b["runs"][0]["id"] for b in (long, waiting, after))
    await _until(world, first, lambda v: v["state"] == "running" and v["progress"]["step"])
    await _until(world, second, lambda v: v["submitted_at"] is not None)

    for run_id in (second, first):
        response = await world.http.post(f"/api/v1/runs/{run_id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["cancel_requested"] is True

    views = await world.wait_runs([first, second, third])
    assert [v["state"] for v in views] == ["cancelled", "cancelled", "succeeded"]
    assert views[0]["error"] is None
    # The interrupted one stopped at a sampler step; the waiting one never ran.
    emu = world.comfy.emu
    assert views[1]["prompt_id"] not in emu.queue.history
    assert emu.number == 3  # each posted once
    again = await world.http.post(f"/api/v1/runs/{first}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "run_finished"


async def test_run_events_come_in_order_on_the_one_stream(world: World) -> None:
    start = (await world.http.get("/api/v1/health")).status_code
    assert start == 200
    seen: list[dict[str, Any]] = []

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=None), headers=auth_headers()) as http,
            http.stream(
                "GET", f"{world.hangar.base_url}/api/v1/events", headers={"Last-Event-ID": "0"}
            ) as stream,
        ):
            assert stream.status_code == 200, await stream.aread()
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event["type"].startswith("run_"):
                        seen.append(event)
                        if event["type"] == "run_finished":
                            return

    reader = asyncio.create_task(read())
    batch = await world.run(prompt=txt2img(steps=20))
    async with asyncio.timeout(60):
        await reader
    kinds = [e["type"] for e in seen]
    assert kinds[0] == "run_queued"
    assert kinds[-1] == "run_finished"
    assert kinds.count("run_output") == 2
    assert "run_progress" in kinds
    run_id = batch["runs"][0]["id"]
    assert {e["data"]["run_id"] for e in seen} == {run_id}
    assert seen[-1]["data"]["state"] == "succeeded"
    assert all("s3cret-header-value" not in json.dumps(e) for e in seen)
    outputs = (await world.http.get("/api/v1/outputs", params={"run_id": run_id})).json()
    assert {e["data"]["output_id"] for e in seen if e["type"] == "run_output"} == {
        o["id"] for o in outputs["items"]
    }
