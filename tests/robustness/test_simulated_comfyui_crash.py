"""A `comfyhangar serve` on the simulated cloud, SIGKILLed after a workflow ran on a simulated
pod: started again, the pod's ComfyUI answers with the same outputs on its volume, and the
ComfyUI client works through the server's own port (HTTP and the WebSocket), the address the
"Open ComfyUI" link gives, with the token that link carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from comfyhangar.comfyui import ComfyUIClient
from comfyhangar.comfyui.events import Event, Progress
from comfyhangar.emulators.comfyui.images import PNG_SIGNATURE
from tests.robustness.support import ServerProcess, deployment_body, server_env
from tests.robustness.test_simulated_cloud_restart import in_state, wait_until
from tests.server.test_simulated_comfyui import sdxl_txt2img

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


async def opened(http: httpx.AsyncClient, dep_id: str) -> tuple[str, dict[str, str]]:
    """(ComfyUI base URL on the server's port, the token header) from the "Open" link."""
    answer = await http.get(f"/api/v1/deployments/{dep_id}/open")
    assert answer.status_code == 307, answer.text
    link = urlsplit(answer.headers["location"])
    (token,) = parse_qs(link.query)["token"]
    base = str(http.base_url).rstrip("/") + link.path.rstrip("/")
    return base, {"Authorization": f"Bearer {token}"}


async def test_outputs_on_a_simulated_pod_survive_a_killed_server(tmp_path: Path) -> None:
    env = server_env(tmp_path, None, HANGAR_EMULATOR_SPEED="50", HANGAR_PREFLIGHT="0")
    server = ServerProcess("hangar", env, tmp_path, prewarm=1)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            body = deployment_body("sdxl", preset="sdxl-base")
            created = await http.post("/api/v1/deployments", json=body)
            assert created.status_code == 201, created.text
            dep_id = created.json()["id"]
            await wait_until(http, dep_id, in_state("ready"), timeout=90)
            base, headers = await opened(http, dep_id)
            seen: list[Event] = []

            async def on_event(event: Event) -> None:
                seen.append(event)

            async with ComfyUIClient(base, headers=headers) as comfy:
                result = await comfy.run(
                    sdxl_txt2img(3), prompt_id="before-kill", on_event=on_event
                )
                assert any(isinstance(e, Progress) for e in seen), "progress over the WebSocket"
                files = result.files
                before: list[Any] = []
                for file in files:
                    async with comfy.open_output(file) as response:
                        before.append(await response.aread())
            assert all(png.startswith(PNG_SIGNATURE) for png in before)
            server.kill()
        await server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            await wait_until(http, dep_id, in_state("ready"))
            base, headers = await opened(http, dep_id)
            async with ComfyUIClient(base, headers=headers) as comfy:
                after = []
                for file in files:
                    async with comfy.open_output(file) as response:
                        after.append(await response.aread())
    finally:
        server.stop()
    assert server.errors() == []
    assert after == before, "the outputs stayed on the pod's volume"
