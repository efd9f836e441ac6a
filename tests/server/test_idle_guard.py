"""The idle guard in the simulated cloud, with a clock moved by hand and real ComfyUI emulators.

Each deployment's ComfyUI is an emulator on its own loopback port (the guard reaches it through
`IdleGuard.endpoint`, as it reaches a pod's through `comfyui_endpoint`), with a frozen clock:
a prompt queued there runs (or waits) until the test ends. The guard, the meter and the
budgets share one clock that the test moves; each guard pass is run by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import select, update

from comfyhangar.comfyui import ComfyUIClient
from comfyhangar.server.db.models import Deployment, Event
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.services.comfyui_access import ComfyEndpoint
from tests.comfyui.support import RunningEmulator, emulator_server, recorded_pod_config
from tests.comfyui.test_emulator_nodes import sd15_txt2img
from tests.comfyui.transcripts import probe_prompt
from tests.server.conftest import (
    FLUX_DEPLOY,
    FROZEN,
    api,
    fast_settings,
    read_events,
    running_hangar,
    settle,
)
from tests.support.servers import free_port


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    comfy: dict[str, str] = field(default_factory=dict)  # deployment id -> ComfyUI base URL
    asked_headers: list[dict[str, str]] = field(default_factory=list)

    async def endpoint(self, dep: Deployment) -> ComfyEndpoint:
        headers = {"Authorization": f"Bearer token-of-{dep.id}"}
        self.asked_headers.append(headers)
        return ComfyEndpoint(self.comfy[dep.id], headers)

    async def look(self, minutes: float = 0) -> None:
        """Move the clock on, then one guard pass."""
        self.clock.advance(minutes)
        await self.runtime.idle_guard.check()

    async def ready(self, name: str, **extra: Any) -> str:
        dep = await self.runtime.deployments.create(
            DeploymentCreate(**{**FLUX_DEPLOY, "name": name, **extra})
        )
        await settle(self.runtime)
        emulator = self.runtime.cloud.emulator
        assert emulator is not None
        emulator.clock.advance(15)
        await settle(self.runtime)
        async with self.runtime.sessions() as session, session.begin():
            await session.execute(
                update(Deployment).where(Deployment.id == dep.id).values(setup_ready=True)
            )
        await settle(self.runtime)
        assert (await self.row(dep.id)).state == "ready"
        return dep.id

    async def row(self, dep_id: str) -> Deployment:
        async with self.runtime.sessions() as session:
            dep = await session.get(Deployment, dep_id)
        assert dep is not None
        return dep

    async def events(self, dep_id: str, *types: str) -> list[Event]:
        async with self.runtime.sessions() as session:
            return list(
                await session.scalars(
                    select(Event)
                    .where(Event.deployment_id == dep_id, Event.type.in_(types))
                    .order_by(Event.id)
                )
            )

    async def until_stopped(self, dep_id: str) -> None:
        emulator = self.runtime.cloud.emulator
        assert emulator is not None
        for _ in range(20):
            await settle(self.runtime)
            if (await self.row(dep_id)).state == "stopped":
                return
            emulator.clock.advance(5)
        raise AssertionError((await self.row(dep_id)).state)


@contextlib.asynccontextmanager
async def world_at(
    tmp_path: Path, clock: Clock | None = None, *, database_url: str | None = None
) -> AsyncIterator[World]:
    settings = fast_settings(
        tmp_path, emulator_speed=FROZEN, create_settle_s=0.0, database_url=database_url
    )
    clock = clock or Clock(datetime.now().astimezone())
    async with Runtime.start(settings, background=False, clock=clock) as runtime:
        world = World(runtime, clock)
        runtime.idle_guard.endpoint = world.endpoint
        yield world


@contextlib.asynccontextmanager
async def comfyui(tmp_path: Path, name: str) -> AsyncIterator[RunningEmulator]:
    async with emulator_server(recorded_pod_config(tmp_path / name)) as running:
        yield running


async def test_an_idle_pod_is_warned_then_stopped_one_in_use_or_kept_awake_is_not(
    tmp_path: Path,
) -> None:
    async with (
        world_at(tmp_path / "hangar") as world,
        comfyui(tmp_path, "idle") as idle_comfy,
        comfyui(tmp_path, "busy") as busy_comfy,
        comfyui(tmp_path, "awake") as awake_comfy,
        api(world.runtime) as http,
    ):
        idle = await world.ready("idle")
        busy = await world.ready("busy")
        awake = await world.ready("awake")
        world.comfy = {
            idle: idle_comfy.base_url,
            busy: busy_comfy.base_url,
            awake: awake_comfy.base_url,
        }
        await world.look()  # the first look since ready starts every clock
        start = world.clock.now

        # A browser tab on the idle pod's ComfyUI: a websocket and nothing else.
        tab = await websockets.connect(idle_comfy.base_url.replace("http", "ws") + "/ws?clientId=tab")  # fmt: skip
        # The busy pod runs a long prompt (its clock is frozen) with another one waiting.
        async with ComfyUIClient(busy_comfy.base_url) as comfy:
            await comfy.submit(probe_prompt("idle", 400, 0x010101), prompt_id="long")
            await comfy.submit(probe_prompt("idle", 2, 0x020202), prompt_id="next")
        kept = await http.post(f"/api/v1/deployments/{awake}/keep-awake", json={"minutes": 120})
        assert kept.status_code == 200, kept.text
        assert kept.json()["idle"]["keep_awake_until"] is not None

        await world.look(24)
        assert not await world.events(idle, "idle_warning")
        await world.look(1)  # 25 minutes idle: the warning, 5 minutes before 30
        [warning] = await world.events(idle, "idle_warning")
        assert warning.data["action"] == "stop"
        assert warning.data["seconds_left"] == 5 * 60
        view = (await http.get(f"/api/v1/deployments/{idle}")).json()["idle"]
        assert view["watching"] is True
        assert datetime.fromisoformat(view["last_activity_at"]) == start
        assert datetime.fromisoformat(view["acts_at"]) == start + timedelta(minutes=30)
        assert view["warned_at"] is not None
        assert [a["source"] for a in view["activity"] if a["active"]] == []

        await world.look(4)
        assert (await world.row(idle)).state == "ready"
        await world.look(1)  # 30 minutes
        await world.until_stopped(idle)
        [action] = await world.events(idle, "idle_action")
        assert action.data["action"] == "stop"
        assert action.data["idle_hours"] == 0.5
        assert Decimal(action.data["saved_per_hour_usd"]) > 0
        assert "idle for 30 min" in action.data["reason"]
        [asked] = await world.events(idle, "deployment_requested")
        assert asked.data["source"] == "idle"
        # The same path as a user's stop: the pod is EXITED, the rate is the stopped one.
        stopped = (await http.get(f"/api/v1/deployments/{idle}")).json()
        assert stopped["state"] == "stopped"
        assert stopped["pod"]["status"] == "EXITED"
        assert Decimal(stopped["cost"]["per_hour_usd"]) < Decimal("0.05")
        await tab.close()

        for dep_id in (busy, awake):
            assert (await world.row(dep_id)).state == "ready"
            assert not await world.events(dep_id, "idle_warning", "idle_action")
        busy_view = (await http.get(f"/api/v1/deployments/{busy}")).json()["idle"]
        comfy_signal = next(a for a in busy_view["activity"] if a["source"] == "comfyui")
        assert comfy_signal == {
            "source": "comfyui",
            "active": True,
            "reason": "2 prompt(s) running or queued",
            "unreadable": False,
        }
        # Kept awake for 2 h: the count starts when that ends.
        awake_view = (await http.get(f"/api/v1/deployments/{awake}")).json()["idle"]
        assert datetime.fromisoformat(awake_view["acts_at"]) == datetime.fromisoformat(
            kept.json()["idle"]["keep_awake_until"]
        ) + timedelta(minutes=30)
        assert world.asked_headers
        assert all("Authorization" in h for h in world.asked_headers)


async def test_a_finished_prompt_counts_as_activity_and_an_unreadable_comfyui_as_active(
    tmp_path: Path,
) -> None:
    async with (
        world_at(tmp_path / "hangar") as world,
        comfyui(tmp_path, "one") as one,
        api(world.runtime) as http,
    ):
        dep_id = await world.ready("one")
        world.comfy = {dep_id: one.base_url}
        await world.look()
        await world.look(20)
        # A prompt queued and done between two looks: seen in the history.
        async with ComfyUIClient(one.base_url) as comfy:
            await comfy.submit(probe_prompt("fin", 1, 0x030303), prompt_id="quick")
            while (await comfy.locate("quick")).state != "done":
                await one.driver.tick()
        await world.look(5)  # 25 minutes after the first look: warned, were it not for it
        assert (await world.row(dep_id)).last_activity_at == world.clock.now
        await world.look(20)
        assert not await world.events(dep_id, "idle_warning")
        await world.look(5)  # 25 minutes after the prompt: the warning ...
        [_warning] = await world.events(dep_id, "idle_warning")
        async with ComfyUIClient(one.base_url) as comfy:  # ... and a prompt withdraws it
            await comfy.submit(probe_prompt("fin", 400, 0x040404), prompt_id="long")
        await world.look(1)
        [withdrawn] = await world.events(dep_id, "idle_warning_withdrawn")
        assert withdrawn.data["reason"] == "1 prompt(s) running or queued"
        assert (await world.row(dep_id)).idle_warned_at is None

        world.comfy[dep_id] = f"http://127.0.0.1:{free_port()}"  # nothing answers there
        await world.look(60)
        row = await world.row(dep_id)
        assert row.last_activity_at == world.clock.now
        assert len(await world.events(dep_id, "idle_warning")) == 1  # no new one
        assert not await world.events(dep_id, "idle_action")
        view = (await http.get(f"/api/v1/deployments/{dep_id}")).json()["idle"]
        [signal] = [a for a in view["activity"] if a["source"] == "comfyui"]
        assert signal["active"]
        assert signal["unreadable"]
        assert "cannot read ComfyUI" in signal["reason"]


async def test_the_idle_clock_survives_a_restart_of_the_server(
    tmp_path: Path, database_url: str
) -> None:
    hangar = tmp_path / "hangar"
    async with world_at(hangar, database_url=database_url) as world, comfyui(tmp_path, "one") as one:  # fmt: skip
        dep_id = await world.ready("one")
        world.comfy = {dep_id: one.base_url}
        await world.look()
        start = world.clock.now
        await world.look(20)
        clock = world.clock
    async with (
        world_at(hangar, clock, database_url=database_url) as world,
        comfyui(tmp_path, "one") as one,
    ):
        world.comfy = {dep_id: one.base_url}
        await settle(world.runtime)
        assert (await world.row(dep_id)).state == "ready"
        await world.look(4)  # 24 minutes since the last activity, before the restart
        assert not await world.events(dep_id, "idle_warning")
        await world.look(1)  # 25: a clock that restarted at the restart would warn at 45
        [warning] = await world.events(dep_id, "idle_warning")
        assert datetime.fromisoformat(warning.data["idle_since"]) == start
        await world.look(5)
        await world.until_stopped(dep_id)


async def test_a_policy_set_at_deploy_and_changed_later(tmp_path: Path) -> None:
    async with (
        world_at(tmp_path / "hangar") as world,
        comfyui(tmp_path, "one") as one,
        api(world.runtime) as http,
    ):
        dep_id = await world.ready(
            "one", idle={"mode": "terminate", "idle_minutes": 10, "warn_minutes": 2}
        )
        world.comfy = {dep_id: one.base_url}
        view = (await http.get(f"/api/v1/deployments/{dep_id}")).json()["idle"]
        assert view["policy"] == {
            "mode": "terminate",
            "idle_minutes": 10,
            "warn_minutes": 2,
            "terminate_after_stopped_days": None,
            "source": "deployment",
        }
        changed = await http.patch(f"/api/v1/deployments/{dep_id}/idle", json={"mode": "off"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["idle"]["watching"] is False
        await world.look()
        await world.look(600)
        assert not await world.events(dep_id, "idle_warning", "idle_action")

        changed = await http.patch(f"/api/v1/deployments/{dep_id}/idle", json={"mode": "terminate"})
        assert changed.json()["idle"]["policy"]["idle_minutes"] == 10
        await world.look()
        await world.look(8)
        [warning] = await world.events(dep_id, "idle_warning")
        assert warning.data["action"] == "terminate"
        await world.look(2)
        [action] = await world.events(dep_id, "idle_action")
        assert action.data["action"] == "terminate"
        assert (await world.row(dep_id)).desired_state == "terminated"


async def test_bad_policies_and_keep_awake_are_422s_naming_the_field(tmp_path: Path) -> None:
    async with world_at(tmp_path / "hangar") as world, api(world.runtime) as http:
        dep_id = await world.ready("one")
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("idle", {"idle_minutes": 0}, "idle_minutes"),
            ("idle", {"idle_minutes": -5}, "idle_minutes"),
            ("idle", {"idle_minutes": 525600}, "idle_minutes"),
            ("idle", {"warn_minutes": 30}, "warn_minutes"),
            ("idle", {"idle_minutes": 5, "warn_minutes": 5}, "warn_minutes"),
            ("idle", {"terminate_after_stopped_days": 0}, "terminate_after_stopped_days"),
            ("idle", {"mode": "sleep"}, "mode"),
            ("keep-awake", {"minutes": 0}, "minutes"),
            ("keep-awake", {"minutes": 60 * 24 * 365}, "minutes"),
            ("keep-awake", {"minutes": "2h"}, "minutes"),
        ]
        for route, body, name in cases:
            method = "PATCH" if route == "idle" else "POST"
            response = await http.request(
                method, f"/api/v1/deployments/{dep_id}/{route}", json=body
            )
            assert response.status_code == 422, (body, response.text)
            problem = response.json()
            assert problem["code"] == "invalid_input"
            assert any(e["field"].endswith(name) for e in problem["errors"]), problem
        created = await http.post(
            "/api/v1/deployments",
            json={**FLUX_DEPLOY, "name": "bad", "idle": {"warn_minutes": 40}},
        )
        assert created.status_code == 422
        assert created.json()["errors"][0]["field"] == "body.idle.warn_minutes"
        names = [d["name"] for d in (await http.get("/api/v1/deployments")).json()["deployments"]]
        assert "bad" not in names  # nothing half-made
        policy = (await world.row(dep_id)).idle_policy
        assert policy is None  # none of the refused changes landed


async def test_two_replicas_warn_once_and_ask_once(tmp_path: Path, database_url: str) -> None:
    """Two server processes on one database run their guards at the same moments: the lease
    lets one of them write each look, so there is one warning and one stop."""
    async with (
        world_at(tmp_path / "a", database_url=database_url) as first,
        comfyui(tmp_path, "one") as one,
    ):
        dep_id = await first.ready("one")
        async with world_at(tmp_path / "b", first.clock, database_url=database_url) as second:
            for world in (first, second):
                world.comfy = {dep_id: one.base_url}
            await first.look()
            for minutes in (10, 10, 5, 1, 4, 1):
                first.clock.advance(minutes)
                await asyncio.gather(
                    first.runtime.idle_guard.check(), second.runtime.idle_guard.check()
                )
            assert len(await first.events(dep_id, "idle_warning")) == 1
            assert len(await first.events(dep_id, "idle_action")) == 1
            assert len(await first.events(dep_id, "deployment_requested")) == 1
            assert (await first.row(dep_id)).desired_state == "stopped"


async def test_setup_in_progress_is_activity(tmp_path: Path) -> None:
    async with world_at(tmp_path / "hangar") as world, comfyui(tmp_path, "one") as one:
        dep_id = await world.ready("one")
        world.comfy = {dep_id: one.base_url}
        await world.look()
        async with world.runtime.sessions() as session, session.begin():
            await session.execute(
                update(Deployment)
                .where(Deployment.id == dep_id)
                .values(setup={"models": {"status": "running", "item": "flux.safetensors"}})
            )
        await world.look(40)
        row = await world.row(dep_id)
        assert row.last_activity_at == world.clock.now
        setup = next(s for s in row.idle_signals if s["source"] == "setup")
        assert setup["active"]
        assert setup["reason"] == "setup in progress: models"
        assert not await world.events(dep_id, "idle_warning")


async def test_a_deployment_stopped_for_days_is_warned_then_terminated(tmp_path: Path) -> None:
    async with world_at(tmp_path / "hangar") as world, api(world.runtime) as http:
        dep_id = await world.ready("one", idle={"terminate_after_stopped_days": 3})
        await world.runtime.deployments.stop(dep_id)
        await world.until_stopped(dep_id)
        await world.look()  # the first look at it stopped starts the second timer
        since = world.clock.now
        view = (await http.get(f"/api/v1/deployments/{dep_id}")).json()["idle"]
        assert view["action"] == "terminate"
        assert datetime.fromisoformat(view["acts_at"]) == since + timedelta(days=3)
        await world.look(3 * 24 * 60 - 6)
        assert not await world.events(dep_id, "idle_warning")
        await world.look(1)
        [warning] = await world.events(dep_id, "idle_warning")
        assert warning.data["action"] == "terminate"
        assert warning.data["seconds_left"] == 5 * 60
        await world.look(5)
        [action] = await world.events(dep_id, "idle_action")
        assert action.data["action"] == "terminate"
        assert "stopped for 3.0 days" in action.data["reason"]
        assert Decimal(action.data["saved_per_hour_usd"]) > 0  # the volume no longer bills
        assert (await world.row(dep_id)).desired_state == "terminated"


async def test_in_the_simulated_cloud_an_idle_pod_stops_and_one_running_a_prompt_does_not(
    tmp_path: Path,
) -> None:
    """The guard end to end in the embedded default: it reads each simulated pod's own ComfyUI
    (through `comfyui_endpoint`), stops the pod nobody uses, and leaves alone the one whose
    ComfyUI is busy with a long prompt."""
    settings = fast_settings(tmp_path, emulator_speed=50.0, idle_check_interval_s=0.2)
    policy = {"mode": "stop", "idle_minutes": 2, "warn_minutes": 1}
    async with running_hangar(settings, timeout=20) as hangar:
        ids: dict[str, str] = {}
        for name in ("unused", "busy"):
            body = {**FLUX_DEPLOY, "name": name, "preset": "sdxl-base", "idle": policy}
            created = await hangar.http.post("/api/v1/deployments", json=body)
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]
        for dep_id in ids.values():
            await hangar.wait_for(dep_id, "ready", timeout=60)

        busy = await hangar.runtime.comfyui.comfyui_endpoint(
            await hangar.runtime.deployments.get(ids["busy"])
        )
        prompt = sd15_txt2img(seed=7)
        prompt["4"]["inputs"]["ckpt_name"] = "sd_xl_base_1.0.safetensors"
        for node in prompt.values():
            if node["class_type"] == "EmptyLatentImage":  # hours of simulated sampling
                node["inputs"].update(width=2048, height=2048, batch_size=4)
            if node["class_type"] == "KSampler":
                node["inputs"]["steps"] = 10000
        async with ComfyUIClient(busy.base_url, headers=busy.headers) as comfy:
            await comfy.submit(prompt, prompt_id="busy-for-hours")

        await hangar.wait_for(ids["unused"], "stopped", timeout=60)
        detail = (await hangar.http.get(f"/api/v1/deployments/{ids['busy']}")).json()
        assert detail["state"] == "ready", "a pod whose ComfyUI runs a prompt is never stopped"
        events = await read_events(hangar.base_url, hangar.runtime.events.last_id)
        stopped_by_guard = {e["deployment_id"] for e in events if e["type"] == "idle_action"}
        assert stopped_by_guard == {ids["unused"]}
