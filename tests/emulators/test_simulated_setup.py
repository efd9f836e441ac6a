"""Pods tagged `HANGAR_DEPLOYMENT_ID` print a simulated agent run after each entry into RUNNING."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from comfyhangar.agent.pack import pod_launch
from comfyhangar.agent.protocol import PREFIX, STEPS, parse_progress_line
from comfyhangar.emulators.runpod import EmulatorConfig
from comfyhangar.emulators.runpod.simulated_setup import DEFAULT_MODELS
from tests.emulators.conftest import FROZEN, KEY, pod_body
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

PROV, START, RESTART, SETUP = 3.0, 5.0, 3.0, 15.0
TO_RUNNING = PROV + START
BANDWIDTH = EmulatorConfig().download_bytes_per_s
# A run: SETUP, plus its downloads at the simulated bandwidth (the default SDXL set here).
RUN = SETUP + sum(m["size"] for m in DEFAULT_MODELS) / BANDWIDTH
TAG = {"HANGAR_DEPLOYMENT_ID": "dep-0001"}

Event = tuple[str, dict[str, str]]  # (event id, data)


@pytest.fixture
async def handle() -> AsyncIterator[EmulatorHandle]:
    config = EmulatorConfig(
        api_key=KEY, seed=7, speed=FROZEN, provisioning_s=PROV, starting_s=START,
        restart_s=RESTART, simulated_setup_s=SETUP,
    )  # fmt: skip
    async with emulator_server(config) as running:
        yield running


@pytest.fixture
async def client(handle: EmulatorHandle) -> AsyncIterator[httpx.AsyncClient]:
    async with handle.client() as http:
        yield http


async def read_log(
    handle: EmulatorHandle, client: httpx.AsyncClient, pod_id: str, last_event_id: str = ""
) -> list[Event]:
    """Every line delivered so far (or after `last_event_id`), read from the SSE stream."""
    logs = handle.emu.pod_record(pod_id).logs
    logs.materialize(handle.emu.now())
    if last_event_id:
        expected = len(logs.lines) - int(last_event_id.rsplit("/", 1)[1])
    else:
        expected = len(logs.lines)
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    got: list[Event] = []
    if expected == 0:
        return got
    params = {"tail": 5000}
    async with client.stream("GET", f"/pods/{pod_id}/logs", params=params, headers=headers) as r:
        assert r.status_code == 200
        event_id = ""
        async for line in r.aiter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                got.append((event_id, json.loads(line[6:])))
                if len(got) == expected:
                    break
    return got


def progress(events: list[Event]) -> list[dict[str, Any]]:
    """The progress objects among `events`; every line carrying the prefix must parse."""
    out = []
    for _, data in events:
        if PREFIX in data["line"]:
            body = parse_progress_line(data["line"])
            assert body is not None, data["line"]
            assert data["source"] == "container"
            assert body["time"] == rfc3339_ms(data["ts"]), "timed on the simulated clock"
            out.append(body)
    return out


async def act(client: httpx.AsyncClient, pod_id: str, action: str) -> int:
    return (await client.post(f"/pods/{pod_id}/action", json={"action": action})).status_code


def rfc3339_ms(ts: str) -> str:
    return ts[:23] + "Z"


def check_complete_run(bodies: list[dict[str, Any]]) -> None:
    """One whole run: steps in protocol order, growing model bytes, ending ready/done, one
    `run` id on every line."""
    assert len({b["run"] for b in bodies}) == 1
    step_level = [b for b in bodies if "item" not in b or b["status"] == "running"]
    order = [b["step"] for b in step_level]
    first_seen = sorted(set(order), key=order.index)
    assert first_seen == list(STEPS)
    assert order == sorted(order, key=STEPS.index), "steps never go back"
    assert (bodies[-1]["step"], bodies[-1]["status"]) == ("ready", "done")
    for step in STEPS[:-1]:
        ends = [b["status"] for b in step_level if b["step"] == step and "item" not in b]
        assert ends[0] == "started", (step, ends)
        assert ends[-1] in ("done", "skipped"), (step, ends)
    running = [b for b in bodies if b["step"] == "models" and b["status"] == "running"]
    assert len(running) >= 3
    done = [b["bytes_done"] for b in running]
    assert done == sorted(done)
    assert done[-1] == running[-1]["bytes_total"] > 1_000_000_000
    assert running[0]["message"].startswith("downloading "), "the totals first, as the agent"
    assert all(b["speed_bps"] > 0 and b["eta_s"] >= 0 for b in running[1:])
    assert running[-1]["eta_s"] == 0


async def test_tagged_pod_shows_a_whole_simulated_run_lazily_and_resumably(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body(env=TAG))).json()["id"]
    handle.emu.clock.advance(TO_RUNNING + RUN / 2)
    first = await read_log(handle, client, pod_id)
    early = progress(first)
    assert early
    assert (early[0]["step"], early[0]["status"]) == ("preflight", "started")
    assert not any(b["step"] == "ready" for b in early), "not ready halfway through"
    assert any(ln.startswith("[hangar] ") for _, d in first for ln in [d["line"]])

    handle.emu.clock.advance(RUN / 2 + 1)
    rest = await read_log(handle, client, pod_id, last_event_id=first[-1][0])
    assert rest, "the rest of the run arrives after the clock moves"
    whole = await read_log(handle, client, pod_id)
    assert [e[0] for e in whole] == [e[0] for e in first + rest], "resume is exact"
    bodies = progress(whole)
    check_complete_run(bodies)
    ready_ts = next(
        d["ts"] for _, d in whole if (parse_progress_line(d["line"]) or {}).get("step") == "ready"
    )
    status = (await client.get(f"/pods/{pod_id}")).json()
    assert status["status"] == "RUNNING"
    started = status["startedAt"]
    assert abs(_seconds(ready_ts) - _seconds(started) - RUN) < 0.01


def _seconds(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


async def test_untagged_pod_keeps_plain_logs(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    handle.emu.clock.advance(TO_RUNNING + RUN + 5)
    events = await read_log(handle, client, pod_id)
    assert [d["line"] for _, d in events][-1].startswith("Container started from")
    assert not any(PREFIX in d["line"] or d["line"].startswith("[") for _, d in events)


async def test_stop_mid_setup_ends_the_run_and_start_runs_it_again(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body(env=TAG))).json()["id"]
    handle.emu.clock.advance(TO_RUNNING + RUN * 0.5)
    assert (await act(client, pod_id, "stop")) == 200
    handle.emu.clock.advance(RUN * 3)
    stopped = await read_log(handle, client, pod_id)
    lines = [d["line"] for _, d in stopped]
    assert lines[-1] == "Container stopped"
    assert progress(stopped), "the lines due before the stop stay"
    assert not any(b["step"] == "ready" for b in progress(stopped))

    assert (await act(client, pod_id, "start")) == 200
    handle.emu.clock.advance(START + RUN + 1)
    after = await read_log(handle, client, pod_id, last_event_id=stopped[-1][0])
    assert after[0][1]["line"] == "Starting pod"
    check_complete_run(progress(after))


async def test_restart_mid_setup_starts_a_fresh_run(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body(env=TAG))).json()["id"]
    handle.emu.clock.advance(TO_RUNNING + SETUP * 0.3)  # before any file is in
    assert (await act(client, pod_id, "restart")) == 200
    handle.emu.clock.advance(RESTART + RUN + 1)
    events = await read_log(handle, client, pod_id)
    restart_at = [d["line"] for _, d in events].index("Restarting container")
    before, after = progress(events[:restart_at]), progress(events[restart_at:])
    assert before
    assert not any(b["step"] == "ready" for b in before)
    check_complete_run(after)
    assert {b["run"] for b in before}.isdisjoint({b["run"] for b in after}), "a new run id"


async def test_sizes_and_names_come_from_the_manifest_in_the_agent_bundle(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    hf = {"type": "huggingface", "repo": "org/repo", "revision": "main"}
    manifest = {
        "version": 1,
        "comfyui": {"repo": "https://github.com/comfyanonymous/ComfyUI", "ref": "v0.3.60"},
        "custom_nodes": [{"repo": "https://github.com/someone/ComfyUI-Foo", "ref": "main"}],
        "models": [
            {
                "folder": "checkpoints",
                "size": 5_000_000_000,
                "source": {**hf, "file": "a.safetensors"},
            },
            {"folder": "vae", "size": 300_000_000, "source": {**hf, "file": "vae/b.safetensors"}},
        ],
    }
    launch = pod_launch(manifest)
    body = pod_body(env={**TAG, **launch.env}, args=launch.args)
    pod_id = (await client.post("/pods", json=body)).json()["id"]
    handle.emu.clock.advance(TO_RUNNING + SETUP + 5_300_000_000 / BANDWIDTH + 0.01)
    bodies = progress(await read_log(handle, client, pod_id))
    check_complete_run(bodies)
    running = [b for b in bodies if b["step"] == "models" and b["status"] == "running"]
    assert running[-1]["bytes_total"] == 5_300_000_000
    preflight = next(b for b in bodies if b["step"] == "preflight" and b["status"] == "done")
    assert preflight["bytes_total"] == 5_300_000_000
    files = [
        b["item"] for b in bodies if b["step"] == "models" and b["status"] == "done" and "item" in b
    ]
    assert files == ["a.safetensors", "b.safetensors"]
    nodes = [b["item"] for b in bodies if b["step"] == "custom_nodes" and "item" in b]
    assert nodes == ["ComfyUI-Foo", "ComfyUI-Foo"]
    assert any("v0.3.60" in b.get("message", "") for b in bodies if b["step"] == "comfyui")


async def test_setup_none_prints_no_run() -> None:
    config = EmulatorConfig(api_key=KEY, seed=7, speed=FROZEN, setup="none")
    async with emulator_server(config) as handle, handle.client() as client:
        pod_id = (await client.post("/pods", json=pod_body(env=TAG))).json()["id"]
        handle.emu.clock.advance(60)
        assert not progress(await read_log(handle, client, pod_id))


def test_config_rejects_bad_setup_values() -> None:
    with pytest.raises(ValueError, match="setup"):
        EmulatorConfig(setup="real")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="simulated_setup_s"):
        EmulatorConfig(simulated_setup_s=-1)
    with pytest.raises(ValueError, match="download_bytes_per_s"):
        EmulatorConfig(download_bytes_per_s=0)
