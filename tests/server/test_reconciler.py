"""The reconciler, cycle by cycle, on a frozen emulator clock: matching, adoption, strays,
untagged pods, lost create answers, and the log follower's exact resume."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from comfyhangar.server.background.log_follower import LogFollower
from comfyhangar.server.db.models import Deployment, Event, LogLine
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import DeploymentCreate
from tests.server.conftest import (
    FLUX_DEPLOY,
    deployment,
    frozen_runtime,
    settle,
)

RTX_4090 = "NVIDIA GeForce RTX 4090"


def tagged_create_body(tag: str, name: str = "elsewhere") -> dict[str, Any]:
    return {
        "name": name,
        "image": "runpod/pytorch:latest",
        "gpu": {"id": RTX_4090, "count": 1},
        "env": {"HANGAR_DEPLOYMENT_ID": tag},
        "disk": 20,
    }


async def test_deploy_makes_one_pod_and_follows_it_to_running(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        assert (await deployment(runtime, dep.id)).state == "provisioning"
        emu.clock.advance(10)
        await settle(runtime)
        row = await deployment(runtime, dep.id)
        assert row.state == "installing"
        assert len(emu.all_pods) == 1
        assert emu.pods[0]["env"]["HANGAR_DEPLOYMENT_ID"] == dep.id
        assert emu.pods[0]["name"] == f"hangar-{dep.id[:8]}-comfyui"


async def test_a_tagged_pod_the_database_lacks_is_adopted(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        tag = uuid.uuid4().hex
        pod = emu.create_pod(tagged_create_body(tag))
        emu.clock.advance(10)
        await settle(runtime)
        adopted = await deployment(runtime, tag)
        assert adopted.pod_id == pod.id
        assert adopted.desired_state == "running"
        assert adopted.state == "installing"
        async with runtime.sessions() as session:
            types = list(
                await session.scalars(select(Event.type).where(Event.deployment_id == tag))
            )
        assert "pod_adopted" in types
        assert len(emu.pods) == 1, "adopting never creates or removes pods"


async def test_untagged_pods_are_listed_and_never_touched(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        body = tagged_create_body("")
        del body["env"]
        theirs = emu.create_pod(body)
        emu.clock.advance(10)
        await settle(runtime, cycles=3)
        async with runtime.sessions() as session:
            row = await session.get(PodRow, theirs.id)
            deployments = list(await session.scalars(select(Deployment)))
        assert row is not None
        assert row.deployment_id is None
        assert deployments == []
        assert [p["status"] for p in emu.pods] == ["RUNNING"]


async def test_a_second_pod_of_one_deployment_is_terminated(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        first = (await deployment(runtime, dep.id)).pod_id
        emu.clock.advance(5)
        extra = emu.create_pod(tagged_create_body(dep.id, name=f"hangar-{dep.id[:8]}-comfyui"))
        await settle(runtime)
        live = [p["id"] for p in emu.pods]
        assert live == [first], f"the stray {extra.id} must be gone, the first pod kept"


async def test_a_pod_of_a_terminated_deployment_is_terminated(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        await runtime.deployments.terminate(dep.id)
        await settle(runtime, cycles=3)
        assert (await deployment(runtime, dep.id)).state == "terminated"
        late = emu.create_pod(tagged_create_body(dep.id))  # e.g. a create answered very late
        await settle(runtime)
        assert late.id not in [p["id"] for p in emu.pods]
        assert emu.pods == []


@pytest.mark.parametrize("mode", ["drop", "gateway"])
async def test_a_lost_create_answer_still_gives_exactly_one_pod(tmp_path: Path, mode: str) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        emu.faults.lose_create_responses = 1.0
        emu.faults.lost_create_modes = (mode,)
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime, cycles=4)
        tags = [p["env"].get("HANGAR_DEPLOYMENT_ID") for p in emu.all_pods]
        assert tags == [dep.id]
        row = await deployment(runtime, dep.id)
        assert row.pod_id == emu.all_pods[0]["id"]
        assert row.state == "provisioning"


async def test_log_follower_resumes_without_losing_or_repeating_lines(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        dep, pod_id = await _running_pod(runtime)
        for i in range(30):
            emu.append_log(pod_id, f"line {i}")

        async def follow_once() -> None:
            follower = LogFollower(runtime.sessions, runtime.cloud.client, interval_s=0.05)
            follower.start()
            await _until(lambda: _count_lines(runtime, dep.id), at_least=30)
            await follower.stop()  # like a server stopping mid-stream

        await follow_once()
        for i in range(30, 60):
            emu.append_log(pod_id, f"line {i}")
        follower = LogFollower(runtime.sessions, runtime.cloud.client, interval_s=0.05)
        follower.start()
        await _until(lambda: _count_lines(runtime, dep.id), at_least=60)
        await follower.stop()
        async with runtime.sessions() as session:
            lines = list(
                await session.scalars(
                    select(LogLine.line)
                    .where(LogLine.deployment_id == dep.id, LogLine.line.like("line %"))
                    .order_by(LogLine.id)
                )
            )
        assert lines == [f"line {i}" for i in range(60)]


async def _running_pod(runtime: Runtime) -> tuple[Deployment, str]:
    """A deployment whose pod has started (the emulator's clock moved past provisioning)."""
    dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
    await settle(runtime)
    runtime.cloud.emulator.clock.advance(10)
    await settle(runtime)
    pod_id = (await deployment(runtime, dep.id)).pod_id
    assert pod_id is not None
    return dep, pod_id


async def _count_lines(runtime: Runtime, dep_id: str) -> int:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(LogLine.id).where(LogLine.deployment_id == dep_id, LogLine.line.like("line %"))
        )
        return len(list(rows))


async def _until(count: Any, *, at_least: int, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while await count() < at_least:
            await asyncio.sleep(0.05)


async def test_setup_progress_keeps_aggregate_download_lines_and_ignores_one_files_done(
    tmp_path: Path,
) -> None:
    """`models` running lines name the file in flight but carry the whole set's bytes: they
    are the step's progress. A file's own `done` line must not mark the step done."""
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        dep, pod_id = await _running_pod(runtime)
        prefix = "##hangar-progress## "
        t = "2026-11-26T07:41:02.123Z"
        for body in (
            f'{{"v":1,"step":"models","status":"started","time":"{t}","items_total":2}}',
            f'{{"v":1,"step":"models","status":"running","time":"{t}","item":"a.safetensors",'
            '"bytes_done":600,"bytes_total":1000,"speed_bps":100.0,"eta_s":4.0}',
            f'{{"v":1,"step":"models","status":"done","time":"{t}","item":"a.safetensors"}}',
            "line done",
        ):
            emu.append_log(pod_id, prefix + body if body.startswith("{") else body)
        follower = LogFollower(runtime.sessions, runtime.cloud.client, interval_s=0.05)
        follower.start()
        await _until(lambda: _count_lines(runtime, dep.id), at_least=1)
        await follower.stop()
        models = (await deployment(runtime, dep.id)).setup["models"]
        assert models["status"] == "running"
        assert models["item"] == "a.safetensors"
        assert (models["bytes_done"], models["bytes_total"]) == (600, 1000)


def _progress_line(step: str, status: str, run: str, **fields: Any) -> str:
    body = {"v": 1, "step": step, "status": status, "time": "2026-11-26T07:41:02.123Z",
            "run": run, **fields}  # fmt: skip
    return "##hangar-progress## " + json.dumps(body)


async def _setup_events(runtime: Runtime, dep_id: str) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(Event.data)
            .where(Event.deployment_id == dep_id, Event.type == "setup_progress")
            .order_by(Event.id)
        )
        return list(rows)


async def test_setup_steps_move_forward_only_and_a_new_run_starts_afresh(tmp_path: Path) -> None:
    """A progress line printed after `ready` leaves Models done (and is no event); the first
    line of the agent's next run (its container restarted) resets the steps, and the deployment
    is installing again until that run is ready."""
    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        dep, pod_id = await _running_pod(runtime)
        follower = LogFollower(runtime.sessions, runtime.cloud.client, interval_s=0.05)
        follower.start()
        try:
            for step in ("preflight", "comfyui", "custom_nodes", "models", "start"):
                emu.append_log(pod_id, _progress_line(step, "started", "r1"))
                emu.append_log(pod_id, _progress_line(step, "done", "r1"))
            emu.append_log(pod_id, _progress_line("ready", "done", "r1"))
            emu.append_log(pod_id, "line 0")
            await _until(lambda: _count_lines(runtime, dep.id), at_least=1)
            row = await deployment(runtime, dep.id)
            assert row.state == "ready"
            assert row.setup["models"]["status"] == "done"

            late = {"item": "a.safetensors", "bytes_done": 6, "bytes_total": 10}
            emu.append_log(pod_id, _progress_line("models", "running", "r1", **late))
            emu.append_log(pod_id, "line 1")
            await _until(lambda: _count_lines(runtime, dep.id), at_least=2)
            row = await deployment(runtime, dep.id)
            assert row.setup["models"]["status"] == "done"
            assert row.setup_ready
            events = await _setup_events(runtime, dep.id)
            assert not [e for e in events if e["step"] == "models" and e["status"] == "running"]

            emu.append_log(pod_id, _progress_line("preflight", "started", "r2"))
            emu.append_log(pod_id, "line 2")
            await _until(lambda: _count_lines(runtime, dep.id), at_least=3)
        finally:
            await follower.stop()
        row = await deployment(runtime, dep.id)
        assert {step: e["status"] for step, e in row.setup.items()} == {"preflight": "started"}
        assert not row.setup_ready
        await settle(runtime)
        assert (await deployment(runtime, dep.id)).state == "installing"
