"""`comfyui_endpoint(deployment)`: where a deployment's ComfyUI answers, on each cloud."""

from __future__ import annotations

import pytest

from comfyhangar.comfyui import ComfyUIClient
from comfyhangar.core.errors import Conflict
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.services.comfyui_access import ComfyUIAccess

TOKEN = "t0k3n-abcdefghijklmnopqrstuvwxyz"


async def pod_token(deployment_id: str) -> str | None:
    return TOKEN if deployment_id == "dep-1" else None


def ready(deployment_id: str = "dep-1", state: str = "ready") -> Deployment:
    return Deployment(id=deployment_id, name="x", state=state, pod_id="abc123xyz")


async def test_on_runpod_it_is_the_pods_proxy_address_with_the_pod_token() -> None:
    endpoint = await ComfyUIAccess(pod_token).comfyui_endpoint(ready())
    assert endpoint.base_url == "https://abc123xyz-8188.proxy.runpod.net"
    assert endpoint.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert endpoint.browser_link() == f"https://abc123xyz-8188.proxy.runpod.net/?token={TOKEN}"
    assert TOKEN not in repr(endpoint)
    async with ComfyUIClient(endpoint.base_url, headers=endpoint.headers) as comfy:
        assert comfy.websocket_url.startswith("wss://abc123xyz-8188.proxy.runpod.net/api/ws?")


async def test_in_the_simulated_cloud_it_is_on_this_machine() -> None:
    access = ComfyUIAccess(pod_token, "http://127.0.0.1:41234/")
    endpoint = await access.comfyui_endpoint(ready())
    assert endpoint.base_url == "http://127.0.0.1:41234/simulated-pods/abc123xyz/comfyui"
    assert endpoint.browser_url == "/simulated-pods/abc123xyz/comfyui/"
    assert endpoint.browser_link() == f"/simulated-pods/abc123xyz/comfyui/?token={TOKEN}"


async def test_a_deployment_without_a_pod_token_gets_no_headers() -> None:
    endpoint = await ComfyUIAccess(pod_token).comfyui_endpoint(ready("dep-old"))
    assert endpoint.headers == {}
    assert endpoint.browser_link() == "https://abc123xyz-8188.proxy.runpod.net/"


@pytest.mark.parametrize("state", ["pending", "installing", "stopped", "terminated"])
async def test_only_a_ready_deployment_has_one(state: str) -> None:
    with pytest.raises(Conflict, match=f"is {state}, not ready"):
        await ComfyUIAccess(pod_token).comfyui_endpoint(ready(state=state))
