"""Kill the server (SIGKILL) while runs are queued, posted and running, and start it again:
every run ends in the right state, none is posted twice, no output is lost."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.emulators.comfyui import ComfyUIEmulator
from comfyhangar.emulators.runpod.clock import SimClock
from tests.robustness.support import CountingApp, ServerProcess, server_env
from tests.runs.conftest import TERMINAL, pod_config, txt2img
from tests.support.auth import auth_headers
from tests.support.servers import running_server

RUNS = 6
KILLS = 4
START_S = 120.0  # importing and starting takes seconds; much more on a loaded machine


async def _runs(http: httpx.AsyncClient, batch_id: str) -> list[dict[str, Any]]:
    body = (await http.get("/api/v1/runs", params={"batch_id": batch_id})).json()
    return sorted(body["items"], key=lambda r: r["batch_index"])


@pytest.mark.slow
async def test_sigkill_during_runs_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261204)
    emu = ComfyUIEmulator(pod_config(tmp_path / "pod"), clock=SimClock(10.0))
    counted = CountingApp(emu.app)
    server = ServerProcess(
        "hangar",
        server_env(tmp_path / "data", None, HANGAR_DATABASE_URL=database_url),
        tmp_path,
        prewarm=1,
    )
    try:
        async with running_server(counted) as comfy_url:
            await server.start(timeout=START_S)
            async with httpx.AsyncClient(
                base_url=server.url, timeout=10, headers=auth_headers()
            ) as http:
                created = await http.post(
                    "/api/v1/comfyui-servers", json={"name": "emu", "url": comfy_url}
                )
                assert created.status_code == 201, created.text
                response = await http.post(
                    "/api/v1/runs",
                    json={
                        "server_id": created.json()["id"],
                        "prompt": txt2img(seed=100, steps=400),
                        "count": RUNS,
                    },
                )
                assert response.status_code == 201, response.text
                batch_id = response.json()["batch_id"]
                # The last run waits behind the others on ComfyUI: cancelling takes it out.
                cancelled_id = response.json()["runs"][RUNS - 1]["id"]
                cancel = await http.post(f"/api/v1/runs/{cancelled_id}/cancel")
                assert cancel.status_code == 200, cancel.text
                async with asyncio.timeout(30):
                    while (await http.get(f"/api/v1/runs/{cancelled_id}")).json()[
                        "state"
                    ] != "cancelled":
                        await asyncio.sleep(0.05)
            for _ in range(KILLS):
                await asyncio.sleep(rng.uniform(0.1, 1.2))
                server.kill()
                await asyncio.sleep(rng.uniform(0.0, 1.0))  # ComfyUI works on meanwhile
                await server.start(timeout=START_S)
            async with httpx.AsyncClient(
                base_url=server.url, timeout=10, headers=auth_headers()
            ) as http:
                runs: list[dict[str, Any]] = []
                async with asyncio.timeout(120):
                    while not runs or any(r["state"] not in TERMINAL for r in runs):
                        await asyncio.sleep(0.2)
                        runs = await _runs(http, batch_id)
                outputs = (
                    await http.get("/api/v1/outputs", params={"batch_id": batch_id, "limit": 100})
                ).json()["items"]
                contents = {o["id"]: (await http.get(o["url"])).content for o in outputs}
    finally:
        server.stop()
        await emu.aclose()

    states = [r["state"] for r in runs]
    assert states[:-1] == ["succeeded"] * (RUNS - 1), runs
    assert states[-1] == "cancelled", runs[-1]

    # Never posted twice: each prompt id reached ComfyUI's /prompt at most once.
    posts = Counter(
        c.body["prompt_id"]
        for c in counted.calls
        if c.method == "POST" and c.path.endswith("/prompt") and c.status == 200
    )
    assert all(n == 1 for n in posts.values()), posts
    assert {r["prompt_id"] for r in runs[:-1]} <= set(posts)

    # No output lost: every image ComfyUI saved for a run is home, byte for byte.
    by_run = Counter(o["run_id"] for o in outputs)
    for run in runs[:-1]:
        assert by_run[run["id"]] == 2, (run["id"], by_run)
        entry = emu.queue.history[run["prompt_id"]]
        saved = [i["filename"] for i in entry["outputs"]["9"]["images"]]
        home = {o["filename"]: o for o in outputs if o["run_id"] == run["id"]}
        assert sorted(home) == sorted(saved)
        for name in saved:
            on_pod = (tmp_path / "pod" / "output" / name).read_bytes()
            assert contents[home[name]["id"]] == on_pod
            assert home[name]["sha256"] == hashlib.sha256(on_pod).hexdigest()
