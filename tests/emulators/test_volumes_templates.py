"""Network volumes and account templates: CRUD, rules, and pods that mount a volume."""

from __future__ import annotations

import httpx

from tests.emulators.conftest import pod_body
from tests.support.runpod_emulator import EmulatorHandle


async def test_network_volume_crud(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/network-volumes", json={"name": "models", "size": 50, "dataCenter": "US-KS-2"}
    )
    assert created.status_code == 201
    volume = created.json()
    assert volume["type"] == "STANDARD"
    assert len(volume["id"]) == 10
    listed = (await client.get("/network-volumes")).json()["networkVolumes"]
    assert [v["id"] for v in listed] == [volume["id"]]
    grown = await client.patch(f"/network-volumes/{volume['id']}", json={"size": 80, "name": "m2"})
    assert grown.json() == {**volume, "size": 80, "name": "m2"}
    shrink = await client.patch(f"/network-volumes/{volume['id']}", json={"size": 60})
    assert shrink.status_code == 400
    assert (await client.patch(f"/network-volumes/{volume['id']}", json={})).status_code == 422
    assert (await client.delete(f"/network-volumes/{volume['id']}")).status_code == 204
    assert (await client.get(f"/network-volumes/{volume['id']}")).status_code == 404


async def test_network_volume_rules(client: httpx.AsyncClient) -> None:
    too_big = {"name": "x", "size": 5000, "dataCenter": "US-KS-2"}
    response = await client.post("/network-volumes", json=too_big)
    assert response.status_code == 422
    assert "$.size: must be <= 4096" in response.json()["errors"]
    nowhere = {"name": "x", "size": 10, "dataCenter": "US-TX-1"}
    assert (await client.post("/network-volumes", json=nowhere)).status_code == 400
    fast = {"name": "x", "size": 10, "dataCenter": "EU-CZ-1", "type": "HIGH_PERFORMANCE"}
    assert (await client.post("/network-volumes", json=fast)).status_code == 400


async def test_pod_with_network_volume_lands_in_its_data_center(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    volume = (
        await client.post(
            "/network-volumes", json={"name": "m", "size": 10, "dataCenter": "US-KS-2"}
        )
    ).json()
    mount = {"network": [{"volumeId": volume["id"], "path": "/workspace"}]}
    pod = (await client.post("/pods", json=pod_body(mounts=mount))).json()
    assert pod["dataCenterId"] == "US-KS-2"
    assert pod["mounts"] == mount
    busy = await client.delete(f"/network-volumes/{volume['id']}")
    assert busy.status_code == 400
    community = await client.post("/pods", json=pod_body(mounts=mount, cloud="COMMUNITY"))
    assert community.status_code == 400
    elsewhere = await client.post("/pods", json=pod_body(mounts=mount, dataCenterIds=["EU-RO-1"]))
    assert elsewhere.status_code == 400
    unknown = {"network": [{"volumeId": "nosuchvol0", "path": "/w"}]}
    assert (await client.post("/pods", json=pod_body(mounts=unknown))).status_code == 404
    await client.delete(f"/pods/{pod['id']}")
    assert (await client.delete(f"/network-volumes/{volume['id']}")).status_code == 204


async def test_account_templates(client: httpx.AsyncClient) -> None:
    assert (await client.get("/templates")).json() == {"templates": []}
    created = await client.post("/templates", json={"name": "mine", "image": "me/img:1"})
    assert created.status_code == 201
    template = created.json()
    assert template["startSsh"] is True
    assert template["category"] == "NVIDIA"
    listed = (await client.get("/templates")).json()["templates"]
    assert [t["id"] for t in listed] == [template["id"]]
    patched = await client.patch(f"/templates/{template['id']}", json={"disk": 80, "mounts": {}})
    assert patched.json()["disk"] == 80
    pod = await client.post("/pods", json={**pod_body(templateId=template["id"]), "image": "x/y:2"})
    assert pod.json()["image"] == "x/y:2"
    assert (await client.patch("/templates/cw3nka7d08", json={"disk": 1})).status_code == 404
    assert (await client.delete("/templates/cw3nka7d08")).status_code == 404
    assert (await client.post("/templates", json={"name": "no image"})).status_code == 422
    assert (await client.delete(f"/templates/{template['id']}")).status_code == 204
    assert (await client.get(f"/templates/{template['id']}")).status_code == 404
