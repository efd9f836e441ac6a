"""Billing matches a hand computation; balance follows it; bucket queries behave as specified."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from comfyhangar.emulators.runpod.logs import rfc3339
from tests.emulators.conftest import RTX_4090, pod_body
from tests.support.runpod_emulator import EmulatorHandle

HOURS_PER_MONTH = 730


async def test_pod_and_volume_billing_match_hand_computation(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    t0 = emu.clock.now()
    volume = await client.post(
        "/network-volumes", json={"name": "models", "size": 100, "dataCenter": "EU-RO-1"}
    )
    assert volume.status_code == 201
    body = pod_body(
        gpu={"id": RTX_4090, "count": 2},
        disk=20,
        mounts={"persistent": {"size": 50, "path": "/workspace"}},
        dataCenterIds=["EU-RO-1"],
    )
    pod_id = (await client.post("/pods", json=body)).json()["id"]
    emu.clock.advance(8 + 3600)  # 3 s provisioning + 5 s starting, then one hour running
    assert (await client.get(f"/pods/{pod_id}")).json()["cost"] == 0.88
    await client.post(f"/pods/{pod_id}/action", json={"action": "stop"})
    emu.clock.advance(7200)  # two hours stopped
    await client.post(f"/pods/{pod_id}/action", json={"action": "start"})
    emu.clock.advance(5 + 1800)  # 5 s starting, half an hour running
    await client.delete(f"/pods/{pod_id}")
    emu.clock.advance(3600)  # terminated: the pod bills nothing more, the volume does

    running_h = (3600 + 1800) / 3600
    holding_h = (8 + 3600 + 5 + 1800) / 3600
    stopped_h = 7200 / 3600
    gpu = 0.44 * 2 * running_h
    disk = (20 + 50) * 0.10 / HOURS_PER_MONTH * holding_h + 50 * 0.20 / HOURS_PER_MONTH * stopped_h
    total_h = (8 + 3600 + 7200 + 5 + 1800 + 3600) / 3600
    storage = 100 * 0.07 / HOURS_PER_MONTH * total_h

    window = {
        "startTime": rfc3339(t0 - timedelta(hours=1)),
        "endTime": rfc3339(emu.clock.now() + timedelta(hours=1)),
        "bucketSize": "hour",
    }
    pods = (await client.get("/billing/pods", params=window)).json()
    totals = pods["metadata"]["totals"]
    assert totals["gpuAmount"] == pytest.approx(gpu, abs=1e-6)
    assert totals["diskAmount"] == pytest.approx(disk, abs=1e-6)
    assert totals["totalAmount"] == pytest.approx(gpu + disk, abs=1e-6)
    assert totals["cpuAmount"] == 0.0
    assert pods["metadata"]["uniquePodCount"] == 1
    assert pods["metadata"]["recordCount"] == len(pods["records"]) >= 4
    assert {r["podId"] for r in pods["records"]} == {pod_id}
    summed = sum(r["totalAmount"] for r in pods["records"])
    assert summed == pytest.approx(gpu + disk, abs=1e-6 * len(pods["records"]))

    volumes = (await client.get("/billing/network-volumes", params=window)).json()
    assert volumes["metadata"]["totals"]["standardAmount"] == pytest.approx(storage, abs=1e-6)
    assert volumes["metadata"]["totals"]["highPerformanceAmount"] == 0.0
    assert volumes["metadata"]["uniqueNetworkVolumeCount"] == 1
    assert volumes["records"][0]["networkVolumeId"] == volume.json()["id"]

    assert emu.balance == pytest.approx(500 - gpu - disk - storage, abs=1e-9)


async def test_bucket_queries(handle: EmulatorHandle, client: httpx.AsyncClient) -> None:
    emu = handle.emu
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    other = (await client.post("/pods", json=pod_body(name="other"))).json()["id"]
    emu.clock.advance(2 * 86400)
    daily = (await client.get("/billing/pods")).json()
    assert daily["metadata"]["query"]["bucketSize"] == "day"
    assert daily["metadata"]["query"]["podId"] is None
    assert daily["metadata"]["uniquePodCount"] == 2
    assert len(daily["records"]) in (6, 8)  # 3 days touched per pod (4 if the run crosses midnight)
    for record in daily["records"]:
        assert record["startTime"].endswith("T00:00:00.000000Z")
    one = (await client.get("/billing/pods", params={"podId": pod_id, "lastN": "2"})).json()
    assert {r["podId"] for r in one["records"]} == {pod_id}
    assert len(one["records"]) == 2
    assert other not in str(one)
    weekly = await client.get("/billing/pods", params={"bucketSize": "week"})
    assert weekly.status_code == 200
    for size in ("month", "year"):
        assert (await client.get("/billing/pods", params={"bucketSize": size})).status_code == 200
    both = await client.get(
        "/billing/pods", params={"lastN": "2", "startTime": "2026-01-01T00:00:00Z"}
    )
    assert both.status_code == 400
    assert (await client.get("/billing/pods", params={"bucketSize": "minute"})).status_code == 422
    assert (await client.get("/billing/pods", params={"startTime": "yesterday"})).status_code == 422
    assert (await client.get("/billing/network-volumes", params={"lastN": "0"})).status_code == 422


async def test_exhausted_balance_stops_or_terminates_pods(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    emu.set_balance(2.0)
    volume = (
        await client.post(
            "/network-volumes", json={"name": "v", "size": 10, "dataCenter": "US-KS-2"}
        )
    ).json()
    mount = {"network": [{"volumeId": volume["id"], "path": "/workspace"}]}
    kept = (await client.post("/pods", json=pod_body(mounts=mount))).json()["id"]
    lost = (await client.post("/pods", json=pod_body())).json()["id"]
    emu.clock.advance(2 * 3600 + 8)  # two RTX 4090 at $0.44/h: $2 lasts about 2.3 h
    assert (await client.get(f"/pods/{kept}")).json()["status"] == "RUNNING"
    emu.clock.advance(3600)
    assert emu.balance < 0
    assert (await client.get(f"/pods/{kept}")).json()["status"] == "EXITED"
    assert (await client.get(f"/pods/{lost}")).status_code == 404
    lines = [line.line for line in emu.pod_record(kept).logs.lines]
    assert "Account balance exhausted: stopping the pod" in lines
