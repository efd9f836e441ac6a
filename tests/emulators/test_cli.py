"""`comfyhangar emulator` serves the emulator from the command line (`--state`: across restarts)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.emulators.conftest import pod_body
from tests.support.servers import free_port

AUTH = {"Authorization": "Bearer k"}


def emulator_command(port: int, *options: str) -> list[str]:
    return [
        *(sys.executable, "-m", "comfyhangar", "emulator"),
        *("--port", str(port), "--api-key", "k", *options),
    ]


@contextlib.contextmanager
def serving(port: int, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    """`comfyhangar emulator` on `port`, up and answering; stopped (SIGTERM) on exit unless the
    test killed it first."""
    command = emulator_command(port, *options)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v2/pods", headers=AUTH)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=10)


def test_cli_serves_the_emulator() -> None:
    port = free_port()
    with serving(port):
        response = httpx.get(f"http://127.0.0.1:{port}/v2/pods", headers=AUTH)
        assert response.status_code == 200
        assert response.json()["pods"] == []
        anonymous = httpx.get(f"http://127.0.0.1:{port}/v2/pods")
        assert anonymous.status_code == 401


@pytest.mark.slow
async def test_what_it_answered_survives_a_sigkill(tmp_path: Path) -> None:
    """Each round: creates and a stop get their answers, then SIGKILL at once, with more creates
    in flight. After every restart the answered pods are there, the stopped one still stopped;
    a create that got no answer may or may not exist (RunPod's own contract)."""
    state, port = tmp_path / "cloud.sqlite3", free_port()
    answered: list[str] = []
    stopped: set[str] = set()
    for _ in range(3):
        with serving(port, "--state", str(state)) as process:
            url = f"http://127.0.0.1:{port}/v2"
            async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=10) as http:
                pods = {p["id"]: p for p in (await http.get("/pods")).json()["pods"]}
                assert set(answered) <= set(pods), "an answered create was lost"
                assert {pods[p]["status"] for p in stopped} <= {"EXITED"}
                for i in range(3):
                    created = await http.post("/pods", json=pod_body(name=f"p{i}"))
                    assert created.status_code == 201, created.text
                    answered.append(created.json()["id"])
                stop = await http.post(f"/pods/{answered[-2]}/action", json={"action": "stop"})
                assert stop.status_code == 200, stop.text
                stopped.add(answered[-2])
                in_flight = [
                    asyncio.create_task(http.post("/pods", json=pod_body(name="maybe")))
                    for _ in range(4)
                ]
                await asyncio.sleep(0)  # let them go out
                process.kill()
                await asyncio.gather(*in_flight, return_exceptions=True)
    with serving(port, "--state", str(state)):
        listing = httpx.get(f"http://127.0.0.1:{port}/v2/pods", headers=AUTH).json()["pods"]
    statuses = {p["id"]: p["status"] for p in listing}
    assert set(answered) <= set(statuses)
    assert {statuses[p] for p in stopped} == {"EXITED"}
    assert sum(p["name"] == "maybe" for p in listing) <= 12


def test_a_state_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    state, port = tmp_path / "cloud.sqlite3", free_port()
    with serving(port, "--state", str(state)):
        pass
    with contextlib.closing(sqlite3.connect(state)) as db, db:
        db.execute("UPDATE meta SET value = '9' WHERE key = 'version'")
    refused = subprocess.run(
        emulator_command(port, "--state", str(state)), capture_output=True, text=True, timeout=30
    )
    assert refused.returncode == 2
    assert f"simulated cloud state {state}: written by a newer ComfyHangar" in refused.stderr
    assert "Traceback" not in refused.stderr
