"""Deployments as run targets: their ComfyUI address comes from `comfyui_endpoint` alone."""

from __future__ import annotations

from comfyhangar.server.db.models import Deployment
from comfyhangar.server.services.comfyui_access import comfyui_endpoint
from tests.runs.conftest import World, txt2img
from tests.server.conftest import FLUX_DEPLOY


async def test_a_ready_deployments_endpoint_carries_its_pod_token(world: World) -> None:
    hangar = world.hangar
    created = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()
    ready = await hangar.wait_for(created["id"], "ready", timeout=60)
    async with hangar.runtime.sessions() as session:
        dep = await session.get(Deployment, created["id"])
    assert dep is not None
    endpoint = await comfyui_endpoint(dep, hangar.runtime.sessions)
    token = await hangar.runtime.deployments.pod_token(dep.id)
    assert endpoint.base_url == f"https://{ready['pod']['id']}-8188.proxy.runpod.net"
    assert endpoint.headers == {"Authorization": f"Bearer {token}"}
    assert token is not None
    assert token not in repr(endpoint)


async def test_a_target_whose_comfyui_does_not_answer_queues_nothing(world: World) -> None:
    await world.http.post(
        "/api/v1/comfyui-servers", json={"name": "gone", "url": "http://127.0.0.1:9"}
    )
    servers = (await world.http.get("/api/v1/comfyui-servers")).json()["items"]
    gone = next(s for s in servers if s["name"] == "gone")
    response = await world.http.post(
        "/api/v1/runs", json={"server_id": gone["id"], "prompt": txt2img()}
    )
    assert response.status_code == 503
    assert response.json()["code"] == "target_unreachable"
    assert "Retry-After" in response.headers
    assert (await world.http.get("/api/v1/runs")).json()["total"] == 0
