"""Pod-scoped keys: every pod's container gets `RUNPOD_API_KEY`, which opens that pod (read it,
stop it) and nothing else: not another pod, not the listing, not a create."""

from __future__ import annotations

import httpx

from tests.emulators.conftest import pod_body
from tests.support.runpod_emulator import EmulatorHandle


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_pod_key_opens_its_own_pod_only(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    mine = (await client.post("/pods", json=pod_body())).json()["id"]
    other = (await client.post("/pods", json=pod_body())).json()["id"]
    handle.emu.clock.advance(10)
    env = handle.emu.pod_env(mine)
    assert env["RUNPOD_POD_ID"] == mine
    key = env["RUNPOD_API_KEY"]
    assert key != handle.emu.pod_env(other)["RUNPOD_API_KEY"]
    # Not in the pod's own `env` (RunPod adds it to the container, the API does not show it).
    assert "RUNPOD_API_KEY" not in (await client.get(f"/pods/{mine}")).json()["env"]

    async with httpx.AsyncClient(base_url=handle.base_url, headers=bearer(key)) as pod:
        assert (await pod.get(f"/pods/{mine}")).status_code == 200
        for method, path, body in [
            ("GET", f"/pods/{other}", None),
            ("POST", f"/pods/{other}/action", {"action": "stop"}),
            ("GET", "/pods", None),
            ("POST", "/pods", pod_body()),
            ("PATCH", f"/pods/{mine}", {"name": "renamed"}),
            ("DELETE", f"/pods/{mine}", None),
        ]:
            refused = await pod.request(method, path, json=body)
            assert refused.status_code == 403, (method, path, refused.text)
        stopped = await pod.post(f"/pods/{mine}/action", json={"action": "stop"})
        assert stopped.status_code == 200, stopped.text
    handle.emu.clock.advance(30)
    statuses = {p["id"]: p["status"] for p in handle.emu.pods}
    assert statuses[mine] == "EXITED"
    assert statuses[other] == "RUNNING"


async def test_a_made_up_pod_key_is_refused(handle: EmulatorHandle) -> None:
    async with httpx.AsyncClient(base_url=handle.base_url) as http:
        made_up = "rpa_pod_" + "0" * 40
        response = await http.get("/pods", headers=bearer(made_up))
        assert response.status_code == 401
