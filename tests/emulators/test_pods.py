"""Pods through raw HTTP: create, read, list, patch, actions, terminate; state machine."""

from __future__ import annotations

import re

import httpx

from comfyhangar.emulators.runpod import EmulatorConfig
from tests.emulators.conftest import FROZEN, RTX_4090, pod_body
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

PROBLEM = "application/problem+json"


async def test_create_returns_201_with_a_provisioning_pod(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    response = await client.post("/pods", json=pod_body())
    assert response.status_code == 201
    pod = response.json()
    assert re.fullmatch(r"[a-z0-9]{14}", pod["id"])
    assert pod["status"] == "PROVISIONING"
    assert pod["actions"] == ["stop", "terminate"]
    assert pod["runtime"] is None
    assert pod["startedAt"] is None
    assert pod["cost"] == 0.44
    assert pod["env"] == {"HANGAR_DEPLOYMENT": "d-1"}
    assert pod["dataCenterId"] is not None
    assert pod["template"] is None
    assert pod["ssh"]["proxy"]["username"].startswith(pod["id"] + "-")
    assert pod["ssh"]["direct"] is None
    assert handle.emu.pods[0]["id"] == pod["id"]


async def test_pod_walks_provisioning_starting_running(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    handle.emu.clock.advance(3.0)
    assert (await client.get(f"/pods/{pod_id}")).json()["status"] == "STARTING"
    handle.emu.clock.advance(5.0)
    pod = (await client.get(f"/pods/{pod_id}")).json()
    assert pod["status"] == "RUNNING"
    assert pod["actions"] == ["stop", "restart", "terminate"]
    assert pod["startedAt"] is not None
    handle.emu.clock.advance(60)
    runtime = (await client.get(f"/pods/{pod_id}")).json()["runtime"]
    assert runtime["uptime"] == 60
    assert len(runtime["gpus"]) == 1
    tcp = next(p for p in runtime["ports"] if p["private"] == 22)
    direct = (await client.get(f"/pods/{pod_id}")).json()["ssh"]["direct"]
    assert direct["port"] == tcp["public"]
    assert direct["host"] == tcp["ip"]


async def test_stop_start_restart_terminate(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    emu.clock.advance(10)
    stopped = await client.post(f"/pods/{pod_id}/action", json={"action": "stop"})
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "EXITED"
    assert stopped.json()["cost"] == 0.0
    assert stopped.json()["runtime"] is None
    assert stopped.json()["actions"] == ["start", "terminate"]
    started = await client.post(f"/pods/{pod_id}/action", json={"action": "start"})
    assert started.json()["status"] == "STARTING"
    emu.clock.advance(5)
    assert (await client.get(f"/pods/{pod_id}")).json()["status"] == "RUNNING"
    restarted = await client.post(f"/pods/{pod_id}/action", json={"action": "restart"})
    assert restarted.json()["status"] == "STARTING"
    emu.clock.advance(3)
    assert (await client.get(f"/pods/{pod_id}")).json()["status"] == "RUNNING"
    gone = await client.post(f"/pods/{pod_id}/action", json={"action": "terminate"})
    assert gone.status_code == 204
    assert gone.content == b""
    assert (await client.get(f"/pods/{pod_id}")).status_code == 404
    assert (await client.get("/pods")).json()["pods"] == []
    assert emu.all_pods[0]["status"] == "TERMINATED"


async def test_invalid_action_is_409_and_unknown_pod_404(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    conflict = await client.post(f"/pods/{pod_id}/action", json={"action": "restart"})
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM
    assert conflict.json()["status"] == 409
    wrong = await client.post(f"/pods/{pod_id}/action", json={"action": "reset"})
    assert wrong.status_code == 422
    missing = await client.get("/pods/nosuchpod00000")
    assert missing.status_code == 404
    assert missing.json() == {"title": "Not Found", "status": 404, "detail": "pod not found"}
    assert (await client.delete("/pods/nosuchpod00000")).status_code == 404


async def test_delete_terminates(handle: EmulatorHandle, client: httpx.AsyncClient) -> None:
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    deleted = await client.delete(f"/pods/{pod_id}")
    assert deleted.status_code == 204
    assert (await client.get(f"/pods/{pod_id}")).status_code == 404
    assert (await client.delete(f"/pods/{pod_id}")).status_code == 404


async def test_start_needs_gpus_on_the_original_host(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    pod = (await client.post("/pods", json=pod_body(dataCenterIds=["US-KS-2"]))).json()
    assert pod["dataCenterId"] == "US-KS-2"
    await client.post(f"/pods/{pod['id']}/action", json={"action": "stop"})
    emu.set_stock(RTX_4090, "US-KS-2", 0)
    refused = await client.post(f"/pods/{pod['id']}/action", json={"action": "start"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        "There are not enough free GPUs on the host machine to start this pod."
    )
    emu.set_stock(RTX_4090, "US-KS-2", 1)
    assert (await client.post(f"/pods/{pod['id']}/action", json={"action": "start"})).is_success
    assert emu.free_gpus(RTX_4090, "US-KS-2") == 0


async def test_capacity_follows_data_center_preference_and_stock(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    emu.clear_stock()
    emu.set_stock(RTX_4090, "EU-SE-1", 1)
    emu.set_stock(RTX_4090, "EU-RO-1", 1)
    body = pod_body(dataCenterIds=["US-KS-2", "EU-SE-1", "EU-RO-1"])
    first = await client.post("/pods", json=body)
    assert first.json()["dataCenterId"] == "EU-SE-1"
    second = await client.post("/pods", json=body)
    assert second.json()["dataCenterId"] == "EU-RO-1"
    third = await client.post("/pods", json=body)
    assert third.status_code == 400
    assert third.json()["detail"] == (
        "There are no longer any instances available with the requested specifications. "
        "Please refresh and try again."
    )
    await client.post(f"/pods/{first.json()['id']}/action", json={"action": "stop"})
    assert (await client.post("/pods", json=body)).json()["dataCenterId"] == "EU-SE-1"
    sold_out = pod_body(gpu={"id": "NVIDIA B300 SXM6 AC", "count": 1})
    assert (await client.post("/pods", json=sold_out)).status_code == 400


async def test_low_balance_is_402(handle: EmulatorHandle, client: httpx.AsyncClient) -> None:
    handle.emu.set_balance(0.40)
    response = await client.post("/pods", json=pod_body())
    assert response.status_code == 402
    assert response.headers["content-type"] == PROBLEM
    assert "at least one hour of credit" in response.json()["detail"]
    handle.emu.set_balance(0.50)
    assert (await client.post("/pods", json=pod_body())).status_code == 201


async def test_missing_or_wrong_key_is_401(handle: EmulatorHandle) -> None:
    async with httpx.AsyncClient(base_url=handle.base_url) as anonymous:
        response = await anonymous.get("/pods")
        assert response.status_code == 401
        assert response.json() == {
            "title": "Unauthorized",
            "status": 401,
            "detail": "missing bearer token",
        }
        assert "RateLimit" not in response.headers
        wrong = await anonymous.get("/pods", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


async def test_any_key_accepted_without_configured_key() -> None:
    async with (
        emulator_server(EmulatorConfig(speed=FROZEN)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        ok = await http.get("/pods", headers={"Authorization": "Bearer whatever"})
        assert ok.status_code == 200
        assert (await http.get("/pods")).status_code == 401


async def test_patch_updates_fields_and_mount_rules(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    body = pod_body(mounts={"persistent": {"size": 20, "path": "/workspace"}})
    pod_id = (await client.post("/pods", json=body)).json()["id"]
    patched = await client.patch(
        f"/pods/{pod_id}",
        json={"name": "renamed", "env": {"A": "1"}, "locked": True, "ports": []},
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "renamed"
    assert patched.json()["env"] == {"A": "1"}
    assert patched.json()["locked"] is True
    assert patched.json()["ports"] == []
    locked = await client.post(f"/pods/{pod_id}/action", json={"action": "stop"})
    assert locked.status_code == 400
    net = {"mounts": {"network": [{"volumeId": "abc", "path": "/w"}]}}
    assert (await client.patch(f"/pods/{pod_id}", json=net)).status_code == 400
    path = {"mounts": {"persistent": {"size": 30, "path": "/data"}}}
    moved = await client.patch(f"/pods/{pod_id}", json=path)
    assert moved.json()["mounts"] == {"persistent": {"size": 30, "path": "/data"}}
    partial = {"mounts": {"persistent": {"path": "/x"}}}
    assert (await client.patch(f"/pods/{pod_id}", json=partial)).status_code == 422
    assert (await client.patch("/pods/nosuchpod00000", json={"name": "x"})).status_code == 404


async def test_template_fills_the_create_body(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    body = pod_body(templateId="cw3nka7d08", env={"EXTRA": "1"})
    del body["image"], body["ports"]
    pod = (await client.post("/pods", json=body)).json()
    assert pod["image"] == "runpod/comfyui:latest"
    assert "8188/http" in pod["ports"]
    assert pod["env"]["EXTRA"] == "1"
    assert "JUPYTER_PASSWORD" in pod["env"]
    assert pod["mounts"] == {"persistent": {"size": 100, "path": "/workspace"}}
    assert pod["template"] is None
    missing = await client.post("/pods", json=pod_body(templateId="nosuchtmpl"))
    assert missing.status_code == 404


async def test_failed_pod_is_error_and_can_start_again(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    handle.emu.clock.advance(10)
    handle.emu.fail_pod(pod_id, "exit code 137")
    pod = (await client.get(f"/pods/{pod_id}")).json()
    assert pod["status"] == "ERROR"
    assert pod["actions"] == ["start", "terminate"]
    assert pod["cost"] == 0.0
    assert pod["runtime"] is None
    started = await client.post(f"/pods/{pod_id}/action", json={"action": "start"})
    assert started.json()["status"] == "STARTING"


async def test_global_networking_needs_an_eligible_data_center(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    handle.emu.set_stock(RTX_4090, "US-TX-1", 4)
    body = pod_body(globalNetworking=True, dataCenterIds=["US-TX-1", "US-KS-2"])
    pod = (await client.post("/pods", json=body)).json()
    assert pod["dataCenterId"] == "US-KS-2"
    assert pod["globalNetworking"]["enabled"] is True
    assert pod["globalNetworking"]["internalDns"] == f"{pod['id']}.runpod.internal"
    plain = (await client.post("/pods", json=pod_body(dataCenterIds=["US-TX-1"]))).json()
    assert plain["globalNetworking"] == {"enabled": False}


async def test_patched_global_networking_applies_at_next_restart(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    pod_id = (await client.post("/pods", json=pod_body(dataCenterIds=["US-KS-2"]))).json()["id"]
    handle.emu.clock.advance(10)
    patched = await client.patch(f"/pods/{pod_id}", json={"globalNetworking": True})
    assert patched.json()["globalNetworking"] == {"enabled": False}
    restarted = await client.post(f"/pods/{pod_id}/action", json={"action": "restart"})
    assert restarted.json()["globalNetworking"]["enabled"] is True
    handle.emu.set_stock(RTX_4090, "US-TX-1", 1)
    other = (await client.post("/pods", json=pod_body(dataCenterIds=["US-TX-1"]))).json()["id"]
    refused = await client.patch(f"/pods/{other}", json={"globalNetworking": True})
    assert refused.status_code == 400
