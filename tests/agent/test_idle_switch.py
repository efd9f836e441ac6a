"""The agent's dead man's switch (agent/idle_switch.py): it stops its own pod with the pod's
own key when the server has been silent and nothing ran for the limit, and never otherwise."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import httpx

from comfyhangar.agent.idle_switch import LIMIT_HEADER, IdleSwitch, SwitchOptions
from comfyhangar.agent.protocol import Reporter
from comfyhangar.emulators.runpod import EmulatorConfig
from tests.comfyui.support import emulator_server as comfyui_server
from tests.comfyui.support import recorded_pod_config
from tests.comfyui.transcripts import probe_prompt
from tests.emulators.conftest import pod_body
from tests.support.runpod_emulator import emulator_server

HEARTBEAT = [("X-Hangar-Token", "t" * 20), (LIMIT_HEADER, "600")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeHttp:
    """The local ComfyUI (`queue_remaining`, newest history id) and RunPod, as the switch sees
    them; records the stop calls."""

    def __init__(self) -> None:
        self.queue_remaining = 0
        self.newest = "p1"
        self.comfyui_down = False
        self.stops: list[tuple[str, dict[str, str], object]] = []

    def __call__(self, method: str, url: str, headers: dict[str, str], body: object, timeout: float) -> object:  # fmt: skip
        if url.endswith("/action"):
            self.stops.append((url, headers, body))
            return {}
        if self.comfyui_down:
            raise OSError("connection refused")
        if "/history" in url:
            return {self.newest: {}}
        return {"exec_info": {"queue_remaining": self.queue_remaining}}


def switch(tmp_path: Path, **changes: Any) -> tuple[IdleSwitch, Clock, FakeHttp, io.StringIO]:
    clock, http, out = Clock(), FakeHttp(), io.StringIO()
    opts = SwitchOptions(
        limit_s=0.0,
        pod_id="pod1",
        api_key="rpa_pod_secret",
        api_url="https://api.example/v2",
        state_file=tmp_path / "idle-limit.json",
        **changes,
    )
    return IdleSwitch(opts, Reporter(out, secrets=["rpa_pod_secret"]), clock=clock, http=http), clock, http, out  # fmt: skip


def test_off_until_the_server_says_its_limit(tmp_path: Path) -> None:
    sw, clock, http, _ = switch(tmp_path)
    clock.now += 10**6
    assert not sw.check()
    assert http.stops == []


def test_stops_its_own_pod_when_the_server_is_silent_and_nothing_runs(tmp_path: Path) -> None:
    sw, clock, http, out = switch(tmp_path)
    sw.heard(HEARTBEAT)  # the server's guard: alive, limit 10 min
    assert sw.check() is False  # first look: the newest history entry is news (busy)
    clock.now += 599
    assert sw.check() is False
    clock.now += 1
    assert sw.check() is True
    [(url, headers, body)] = http.stops
    assert url == "https://api.example/v2/pods/pod1/action"
    assert headers["Authorization"] == "Bearer rpa_pod_secret"
    assert body == {"action": "stop"}
    assert "stopping this pod" in out.getvalue()
    assert "rpa_pod_secret" not in out.getvalue()


def test_heartbeats_and_local_work_hold_it_off_a_browser_does_not(tmp_path: Path) -> None:
    sw, clock, http, _ = switch(tmp_path)
    sw.heard(HEARTBEAT)
    sw.check()
    for _ in range(10):
        clock.now += 500
        sw.heard(HEARTBEAT)  # the server looks every pass
        assert not sw.check()
    http.queue_remaining = 1  # the server is gone; a prompt runs here for a long time
    for _ in range(10):
        clock.now += 500
        sw.heard([("Cookie", "hangar_token=" + "t" * 20)])  # a browser tab's own calls
        assert not sw.check()
    http.queue_remaining = 0
    http.comfyui_down = True  # the local ComfyUI cannot be read: busy, never stop blind
    clock.now += 5000
    assert not sw.check()
    http.comfyui_down = False
    http.newest = "p2"  # a prompt finished between two looks
    clock.now += 5000
    assert not sw.check()
    clock.now += 600
    sw.heard([(LIMIT_HEADER, "0")])  # the user switched the policy off: the server says so
    clock.now += 10**6
    assert not sw.check()
    assert http.stops == []


def test_the_limit_survives_a_restart_of_the_agent(tmp_path: Path) -> None:
    sw, _, _, _ = switch(tmp_path)
    sw.heard([(LIMIT_HEADER, "1800")])
    again, clock, http, _ = switch(tmp_path)
    assert again.limit_s == 1800
    again.check()
    clock.now += 1800
    assert again.check()
    assert len(http.stops) == 1
    (tmp_path / "idle-limit.json").write_text(json.dumps({"limit_s": -5}))
    assert switch(tmp_path)[0].limit_s == 0  # a bad file: off, as at first start


def test_bad_limits_are_ignored(tmp_path: Path) -> None:
    sw, _, _, _ = switch(tmp_path)
    for bad in ("-1", "abc", "1e12", ""):
        sw.heard([(LIMIT_HEADER, bad)])
    assert sw.limit_s == 0


async def test_against_the_emulators_the_pod_key_stops_its_own_pod(tmp_path: Path) -> None:
    async with (
        emulator_server(EmulatorConfig(api_key="account-key", seed=3, speed=1e-9)) as runpod,
        runpod.client() as account,
        comfyui_server(recorded_pod_config(tmp_path / "comfy")) as comfy,
    ):
        mine = (await account.post("/pods", json=pod_body())).json()["id"]
        other = (await account.post("/pods", json=pod_body())).json()["id"]
        runpod.emu.clock.advance(10)
        port = int(comfy.base_url.rsplit(":", 1)[1])

        def real_switch(pod_id: str, key_of: str) -> IdleSwitch:
            opts = SwitchOptions(
                limit_s=60.0,
                pod_id=pod_id,
                api_key=runpod.emu.pod_env(key_of)["RUNPOD_API_KEY"],
                api_url=runpod.base_url,
                comfyui_port=port,
            )
            return IdleSwitch(opts, Reporter(io.StringIO()), clock=clock)

        clock = Clock()
        # Another pod's key cannot stop this one (RunPod refuses it: 403).
        wrong = real_switch(other, mine)
        wrong.check()
        clock.now += 61
        assert not await _in_thread(wrong.check)
        # A prompt running on the pod's ComfyUI holds the switch off.
        async with httpx.AsyncClient(base_url=comfy.base_url) as http:
            accepted = await http.post("/prompt", json={"prompt": probe_prompt("sw", 400, 0x050505)})  # fmt: skip
            assert accepted.status_code == 200, accepted.text
        right = real_switch(mine, mine)
        right.check()
        clock.now += 61
        assert not await _in_thread(right.check)
        async with httpx.AsyncClient(base_url=comfy.base_url) as http:
            await http.post("/interrupt", json={})
            await http.post("/queue", json={"clear": True})
        while (await _queue(comfy.base_url)) > 0:
            await comfy.driver.tick()
        await _in_thread(right.check)  # the interrupted prompt's history entry is news
        clock.now += 61
        assert await _in_thread(right.check)
        runpod.emu.clock.advance(30)
        statuses = {p["id"]: p["status"] for p in runpod.emu.pods}
        assert statuses == {mine: "EXITED", other: "RUNNING"}


async def _queue(base_url: str) -> int:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return int((await http.get("/prompt")).json()["exec_info"]["queue_remaining"])


async def _in_thread(fn: Any) -> Any:
    return await asyncio.to_thread(fn)
