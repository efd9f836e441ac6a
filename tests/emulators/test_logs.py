"""GET /v2/pods/{id}/logs: SSE backfill, live lines, filters, keepalives, exact resume."""

from __future__ import annotations

import asyncio

import httpx

from comfyhangar.emulators.runpod import EmulatorConfig
from tests.emulators.conftest import FROZEN, KEY, pod_body
from tests.support.runpod_emulator import EmulatorHandle, emulator_server
from tests.support.sse import Reader, events, take


async def _running_pod(handle: EmulatorHandle, client: httpx.AsyncClient) -> str:
    pod_id: str = (await client.post("/pods", json=pod_body())).json()["id"]
    handle.emu.clock.advance(10)
    return pod_id


async def test_backfill_then_live_then_end_on_terminate(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = await _running_pod(handle, client)
    async with client.stream("GET", f"/pods/{pod_id}/logs") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        reader = Reader(response)
        backfill = await reader.take(5)
        assert backfill[0].data is not None
        assert backfill[0].data["source"] == "system"
        assert backfill[-1].data == {
            "ts": backfill[-1].data["ts"],  # type: ignore[index]
            "source": "container",
            "line": "Container started from runpod/comfyui:latest",
        }
        assert backfill[0].id is not None
        assert backfill[0].id.endswith("/000000000001")
        handle.emu.append_log(pod_id, 'HANGAR {"step": 1}')
        live = await reader.take(1)
        assert live[0].data is not None
        assert live[0].data["line"] == 'HANGAR {"step": 1}'
        await client.delete(f"/pods/{pod_id}")
        rest = await reader.rest()
        assert [e.data["line"] for e in rest if e.data] == ["Pod terminated"]


async def test_resume_by_last_event_id_loses_and_repeats_nothing(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    pod_id = await _running_pod(handle, client)
    for i in range(20):
        emu.append_log(pod_id, f"line {i}")
    seen: list[str] = []
    last_id = None
    for round_ in range(4):
        headers = {"Last-Event-ID": last_id} if last_id else {}
        params = {"tail": "5000"}
        async with client.stream(
            "GET", f"/pods/{pod_id}/logs", headers=headers, params=params
        ) as r:
            got = await take(r, 4)
        seen += [e.data["line"] for e in got if e.data]
        last_id = got[-1].id
        emu.append_log(pod_id, f"between {round_}")  # written while nobody listens
    async with client.stream(
        "GET", f"/pods/{pod_id}/logs", headers={"Last-Event-ID": str(last_id)}
    ) as response:
        expected_total = len(emu.pod_record(pod_id).logs.lines)
        seen += [e.data["line"] for e in await take(response, expected_total - len(seen)) if e.data]
    all_lines = [line.line for line in emu.pod_record(pod_id).logs.lines]
    assert seen == all_lines
    assert "between 3" in seen


async def test_source_tail_and_since(handle: EmulatorHandle, client: httpx.AsyncClient) -> None:
    emu = handle.emu
    pod_id = await _running_pod(handle, client)
    for i in range(3):
        emu.append_log(pod_id, f"c{i}")
        emu.clock.advance(1)
    emu.append_log(pod_id, "s0", source="system")
    url = f"/pods/{pod_id}/logs"
    async with client.stream("GET", url, params={"source": "container", "tail": "2"}) as r:
        assert [e.data["line"] for e in await take(r, 2) if e.data] == ["c1", "c2"]
    async with client.stream("GET", url, params={"tail": "1"}) as r:
        assert [e.data["line"] for e in await take(r, 1) if e.data] == ["s0"]
    since = emu.pod_record(pod_id).logs.lines[-2].payload()["ts"]
    async with client.stream("GET", url, params={"since": since, "tail": "0"}) as r:
        assert [e.data["line"] for e in await take(r, 2) if e.data] == ["c2", "s0"]
    assert (await client.get(url, params={"tail": "5001"})).status_code == 422
    assert (await client.get(url, params={"source": "kernel"})).status_code == 422
    assert (await client.get("/pods/nosuchpod00000/logs")).status_code == 404


async def test_idle_stream_sends_keepalives_and_scheduled_lines_arrive() -> None:
    config = EmulatorConfig(api_key=KEY, speed=FROZEN, keepalive_s=0.1)
    async with emulator_server(config) as running, running.client() as client:
        pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
        async with client.stream("GET", f"/pods/{pod_id}/logs") as response:
            comments, lines = 0, []
            async with asyncio.timeout(5):
                async for event in events(response):
                    if event.comment:
                        comments += 1
                        if comments == 2:
                            running.emu.clock.advance(10)  # the pod boots: its lines flow
                    elif event.data:
                        lines.append(event.data["line"])
                    if len(lines) == 5:
                        break
        assert comments >= 2
        assert lines[-1] == "Container started from runpod/comfyui:latest"
