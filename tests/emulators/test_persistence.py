"""An emulator with a state file continues, after a restart, exactly where the last one stopped.

Restarts are simulated in this process: the first emulator is closed, a second one opens the
same file. Downtime is a wall clock moved forward for the second one (`down_for`), so no test
waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import types
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.core.pricing import network_volume_rate_per_hour
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator, StateFileError
from comfyhangar.emulators.runpod import emulator as emulator_module
from comfyhangar.emulators.runpod.billing import hours
from comfyhangar.emulators.runpod.logs import parse_rfc3339
from comfyhangar.emulators.runpod.store import SqliteStore
from tests.emulators.conftest import FROZEN, KEY, RTX_4090, pod_body
from tests.emulators.simworld import (
    SETUP,
    START,
    TO_RUNNING,
    VOLUME,
    act,
    create,
    hf,
    progress,
    simulated_world,
)
from tests.support.runpod_emulator import EmulatorHandle, emulator_server
from tests.support.sse import Event, Reader

OURS = {"HANGAR_DEPLOYMENT_ID": "dep-1"}  # the marker that makes the emulator simulate setup


def config(path: Path, **overrides: Any) -> EmulatorConfig:
    values: dict[str, Any] = {"api_key": KEY, "seed": 7, "speed": FROZEN, "state_path": path}
    return EmulatorConfig(**{**values, **overrides})


@contextlib.asynccontextmanager
async def served(
    path: Path, **overrides: Any
) -> AsyncIterator[tuple[EmulatorHandle, httpx.AsyncClient]]:
    """An emulator on `path`, served; it is closed (its file released) on exit."""
    async with emulator_server(config(path, **overrides)) as handle, handle.client() as client:
        yield handle, client


@contextlib.contextmanager
def down_for(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Iterator[None]:
    """The next emulator opens its file as if `seconds` of wall-clock time had passed."""
    later = types.SimpleNamespace(time=lambda: time.time() + seconds)
    with monkeypatch.context() as patch:
        patch.setattr(emulator_module, "time", later)
        yield


async def our_pod(client: httpx.AsyncClient) -> str:
    """A pod carrying ComfyHangar's marker: the emulator prints a simulated setup once it runs."""
    pod_id: str = (await client.post("/pods", json=pod_body(env=OURS))).json()["id"]
    return pod_id


def says_ready(event: Event) -> bool:
    return '"step":"ready"' in (event.data or {}).get("line", "")


async def due_lines(emu: RunPodEmulator, client: httpx.AsyncClient, pod_id: str) -> list[Event]:
    """Every line the pod's log stream has now, as a client reads it from the start."""
    emu.materialize_logs(emu.pod_record(pod_id))
    count = len(emu.pod_record(pod_id).logs.lines)
    async with client.stream("GET", f"/pods/{pod_id}/logs", params={"tail": "5000"}) as r:
        return await Reader(r).take(count)


def snapshot(emu: RunPodEmulator) -> dict[str, Any]:
    """Everything a client or a test can read back from an emulator."""
    return {
        "pods": emu.all_pods,
        "records": emu.billed_pods(),  # every field, the phases and the whole log book
        "volumes": [(v.to_api(), v.sizes, v.deleted_at) for v in emu.billed_volumes()],
        "templates": emu.templates(owned=True),
        "balance": emu.balance,
        "stock": (emu.stock_levels("SECURE"), emu.stock_levels("COMMUNITY")),
        "ids": (emu.rng.getstate(), emu.seed_text),
    }


async def test_every_kind_of_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cloud.sqlite3"
    async with served(path) as (handle, client):
        emu = handle.emu
        volume = (
            await client.post(
                "/network-volumes", json={"name": "models", "size": 50, "dataCenter": "EU-RO-1"}
            )
        ).json()
        ours = (
            await client.post(
                "/pods",
                json=pod_body(env=OURS, mounts={"persistent": {"size": 30, "path": "/workspace"}}),
            )
        ).json()["id"]
        network = (
            await client.post(
                "/pods",
                json=pod_body(
                    dataCenterIds=["EU-RO-1"],
                    mounts={"network": [{"volumeId": volume["id"], "path": "/workspace"}]},
                ),
            )
        ).json()["id"]
        failing = (await client.post("/pods", json=pod_body(name="failing"))).json()["id"]
        gone = (await client.post("/pods", json=pod_body(name="gone"))).json()["id"]
        early = (await client.post("/pods", json=pod_body(name="early"))).json()["id"]
        # Stopped while PROVISIONING: its STARTING and RUNNING, already stored, are dropped.
        assert (await client.post(f"/pods/{early}/action", json={"action": "stop"})).is_success
        emu.clock.advance(10)  # RUNNING since 8 s; the simulated setup of `ours` is under way
        streamed = await due_lines(emu, client, ours)
        assert emu.pod_record(ours).logs.pending, "some setup lines are still to come"

        changes = {"name": "renamed", "disk": 40, "globalNetworking": True, "locked": True}
        assert (await client.patch(f"/pods/{ours}", json=changes)).status_code == 200
        assert (await client.post(f"/pods/{network}/action", json={"action": "stop"})).is_success
        assert (await client.delete(f"/pods/{gone}")).status_code == 204
        emu.fail_pod(failing, "out of memory")
        emu.append_log(ours, "a line of our own")

        spare = (
            await client.post(
                "/network-volumes", json={"name": "spare", "size": 20, "dataCenter": "US-KS-2"}
            )
        ).json()["id"]
        emu.clock.advance(30)
        await client.patch(f"/network-volumes/{spare}", json={"size": 25, "name": "spare2"})
        assert (await client.delete(f"/network-volumes/{spare}")).status_code == 204
        template = (
            await client.post("/templates", json={"name": "mine", "image": "me/comfy:1"})
        ).json()["id"]
        await client.patch(f"/templates/{template}", json={"env": {"A": "1"}})
        doomed = (await client.post("/templates", json={"name": "x", "image": "x"})).json()["id"]
        assert (await client.delete(f"/templates/{doomed}")).status_code == 204
        emu.set_stock(RTX_4090, "US-KS-2", 3)
        emu.set_balance(123.45)
        emu.clock.advance(2)
        before, moment = snapshot(emu), emu.now()

    again = RunPodEmulator(config(path))
    try:
        assert abs(again.now() - moment) < timedelta(milliseconds=1)
        assert snapshot(again) == before
        record = again.pod_record(ours)
        assert record.name == "renamed"
        assert record.global_networking_next is True, "a PATCH waiting for the next start"
        assert [p.status for p in again.pod_record(network).phases][-1] == "EXITED"
        assert [p.status for p in again.pod_record(early).phases] == ["PROVISIONING", "EXITED"]
        assert again.free_gpus(RTX_4090, "US-KS-2") == 3
        assert [e.id for e in streamed] == [
            ln.event_id for ln in record.logs.lines[: len(streamed)]
        ]
        # The id generator continues, so nothing made after the restart reuses an id.
        made = again.create_network_volume("after", 10, "US-KS-2")
        assert made.id not in {volume["id"], spare, template, doomed}
    finally:
        again.close()


async def test_time_ran_on_while_down_and_due_lines_arrive_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cloud.sqlite3"
    async with served(path, speed=2.0) as (handle, client):
        emu = handle.emu
        pod_id = await our_pod(client)
        emu.clock.advance(12)  # RUNNING at 8 s; 4 s into a 15 s simulated setup
        first = await due_lines(emu, client, pod_id)
        pod = (await client.get(f"/pods/{pod_id}")).json()
        balance, stopped_at = emu.balance, emu.now()
        record = emu.pod_record(pod_id)
        rate = record.rate(record.phase_at(stopped_at)).total
        last_due = record.logs.pending[-1][0]  # when the simulated setup prints `ready`

    with down_for(monkeypatch, 1800):  # half an hour at speed 2: one simulated hour
        async with served(path, speed=2.0) as (handle, client):
            emu = handle.emu
            resumed = emu.now()
            assert timedelta(hours=1) <= resumed - stopped_at < timedelta(hours=1, minutes=1)
            after = (await client.get(f"/pods/{pod_id}")).json()
            assert after["status"] == "RUNNING"
            assert after["startedAt"] == pod["startedAt"], "the container never restarted"
            assert after["runtime"]["uptime"] >= 3600
            spent = balance - emu.balance
            assert spent == pytest.approx(float(rate * hours(stopped_at, emu.now())), rel=1e-3)

            headers = {"Last-Event-ID": first[-1].id or ""}
            emu.materialize_logs(emu.pod_record(pod_id))
            rest_count = len(emu.pod_record(pod_id).logs.lines) - len(first)
            async with client.stream("GET", f"/pods/{pod_id}/logs", headers=headers) as r:
                rest = await Reader(r).take(rest_count)
            lines = emu.pod_record(pod_id).logs.lines

    assert [e.id for e in first + rest] == [ln.event_id for ln in lines], "none lost or repeated"
    assert [int((e.id or "").rsplit("/", 1)[1]) for e in first + rest] == list(
        range(1, len(lines) + 1)
    )
    assert says_ready(rest[-1])
    # Lines that fell due while the emulator was down carry the time they were printed.
    times = [parse_rfc3339((e.data or {})["ts"]) for e in first + rest]
    assert times == sorted(times)
    assert times[-1] == last_due < resumed


async def test_a_wall_clock_set_back_takes_neither_pods_nor_sent_lines_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cloud.sqlite3"
    async with served(path, speed=100.0) as (handle, client):
        emu = handle.emu
        pod_id = await our_pod(client)
        done = emu.pod_record(pod_id).logs.pending[-1][0]  # its simulated setup says `ready`
        async with asyncio.timeout(10):
            while emu.now() < done:  # real time runs the pod, with no request to record it
                await asyncio.sleep(0.01)
        sent = await due_lines(emu, client, pod_id)
        assert says_ready(sent[-1])

    with down_for(monkeypatch, -3600):  # the wall clock went back an hour while down
        async with served(path, speed=100.0) as (handle, client):
            emu = handle.emu
            assert (await client.get(f"/pods/{pod_id}")).json()["status"] == "RUNNING"
            lines = emu.pod_record(pod_id).logs.lines
            assert [ln.event_id for ln in lines[: len(sent)]] == [e.id for e in sent]
            assert emu.now() >= lines[len(sent) - 1].ts, "time resumes after what was sent"


async def test_a_balance_that_ran_out_while_down_stops_pods_when_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cloud.sqlite3"
    async with served(path, speed=1.0) as (handle, client):
        emu = handle.emu
        volume = emu.create_network_volume("models", 10, "EU-RO-1")
        plain = (await client.post("/pods", json=pod_body())).json()["id"]
        mounted = (
            await client.post(
                "/pods",
                json=pod_body(
                    dataCenterIds=["EU-RO-1"],
                    mounts={"network": [{"volumeId": volume.id, "path": "/workspace"}]},
                ),
            )
        ).json()["id"]
        emu.clock.advance(10)
        emu.set_balance(0.25)
        last_seen = emu.now()
        per_hour = network_volume_rate_per_hour(10) + sum(
            pod.rate(pod.phase_at(last_seen)).total for pod in emu.billed_pods()
        )
        ran_out = last_seen + timedelta(hours=float(Decimal("0.25") / per_hour))

    with down_for(monkeypatch, 3600):
        again = RunPodEmulator(config(path, speed=1.0))
    try:
        assert {p["id"]: p["status"] for p in again.all_pods} == {
            plain: "TERMINATED",
            mounted: "EXITED",
        }
        assert abs(again.balance) < 0.001, "billing stopped when the money did, not an hour later"
        records = {pod.id: pod for pod in again.billed_pods()}
        for pod_id, word in ((plain, "terminating"), (mounted, "stopping")):
            line = next(ln for ln in records[pod_id].logs.lines if "balance exhausted" in ln.line)
            assert word in line.line
            assert abs(line.ts - ran_out) < timedelta(seconds=1)
    finally:
        again.close()


async def test_models_on_a_volume_are_still_there_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cloud.sqlite3"
    models = [hf("org/small", "a.safetensors", "checkpoints", size=1000)]
    async with simulated_world(state_path=path) as (handle, client, _):
        pod_id = await create(client, models, mounts=VOLUME)
        handle.emu.clock.advance(TO_RUNNING + SETUP + 1)
        await act(client, pod_id, "stop")
        files = dict(handle.emu.model_files(pod_id))
    async with simulated_world(state_path=path) as (handle, client, _):
        assert handle.emu.model_files(pod_id) == files
        await act(client, pod_id, "start")
        handle.emu.clock.advance(START + SETUP + 1)
        lines = progress(handle, pod_id)
    models_step = [(b["status"], b.get("item")) for b in lines if b["step"] == "models"]
    assert models_step.count(("done", "a.safetensors")) == 1, "downloaded before the restart only"
    assert ("skipped", "a.safetensors") in models_step, "found on the volume after it"


def _state_file(path: Path) -> None:
    """A state file holding one pod with a few log lines."""
    emu = RunPodEmulator(config(path))
    try:
        pod = emu.create_pod(pod_body())
        emu.clock.advance(10)
        for i in range(50):
            emu.append_log(pod.id, f"line {i} " + "x" * 200)
    finally:
        emu.close()


def _newer_version(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'version'")


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is no database\n" * 500)


def _torn(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _bad_record(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE pods SET record = '{\"id\": 5}'")


def _someone_elses(path: Path) -> None:
    path.unlink()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE notes (text TEXT)")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_newer_version, "written by a newer ComfyHangar (state version 2"),
        (_garbage, "damaged (file is not a database)"),
        (_torn, "damaged"),
        (_bad_record, "damaged (pod "),
        (_someone_elses, "not a simulated cloud state file"),
    ],
)
def test_a_file_it_cannot_read_stops_the_start_and_stays_as_it_was(
    tmp_path: Path, damage: Any, message: str
) -> None:
    path = tmp_path / "cloud.sqlite3"
    _state_file(path)
    damage(path)
    content = path.read_bytes()
    with pytest.raises(StateFileError) as refused:
        RunPodEmulator(config(path))
    assert str(path) in str(refused.value)
    assert message in str(refused.value)
    assert path.read_bytes() == content, "never silently started over"


def test_a_second_emulator_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cloud.sqlite3"
    first = RunPodEmulator(config(path))
    try:
        with pytest.raises(StateFileError, match="in use by another process"):
            RunPodEmulator(config(path))
    finally:
        first.close()
    RunPodEmulator(config(path)).close()


def test_a_write_ahead_log_left_from_a_deleted_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cloud.sqlite3"
    (tmp_path / "cloud.sqlite3-wal").write_bytes(b"frames of the old account")
    with pytest.raises(StateFileError, match=r"cloud.sqlite3-wal is left from a deleted state"):
        RunPodEmulator(config(path))
    assert not path.exists()


def test_a_file_killed_before_its_first_account_is_a_new_account(tmp_path: Path) -> None:
    path = tmp_path / "cloud.sqlite3"
    SqliteStore(path).close()  # the schema commits before the first account does
    emu = RunPodEmulator(config(path, balance=42.0))
    try:
        assert emu.balance == 42.0
    finally:
        emu.close()


def test_the_state_file_is_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "cloud" / "cloud.sqlite3"
    emu = RunPodEmulator(config(path))
    emu.create_pod(pod_body(env={"HF_TOKEN": "hf_secret"}))  # pods' env can hold tokens
    try:
        assert path.stat().st_mode & 0o077 == 0
        assert (tmp_path / "cloud").stat().st_mode & 0o077 == 0
    finally:
        emu.close()


def test_an_emulator_without_a_state_path_writes_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    emu = RunPodEmulator(EmulatorConfig(speed=FROZEN))
    emu.create_pod(pod_body())
    emu.close()
    assert list(tmp_path.iterdir()) == []
