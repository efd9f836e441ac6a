"""The simulated pods' ComfyUI on the server's own port: `/simulated-pods/{pod_id}/comfyui/...`.

In the simulated cloud, "Open ComfyUI" sends the browser here: the same origin as the
dashboard, so it works wherever the dashboard does (loopback, an SSH tunnel, a published
container port, a reverse proxy). The embedded emulator's `PodComfyUIs.app` answers, with the
pod agent's token rules (`emulators/runpod/pod_proxy.py`). This middleware sits inside the Host
check (a rebinding page cannot reach it) and outside the API's body limit (ComfyUI's uploads
have their own, `--max-upload-size`). With a real RunPod key nothing is served here: 404.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from comfyhangar.emulators.runpod.pod_comfyui import PATH_PREFIX
from comfyhangar.server.errors import problem


class SimulatedPods:
    """ASGI middleware: `/simulated-pods/...` goes to the simulated pods' ComfyUI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if not (path == PATH_PREFIX or path.startswith(PATH_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        runtime = getattr(scope["app"].state, "runtime", None)
        emulator = runtime.cloud.emulator if runtime is not None else None
        if emulator is not None:
            await emulator.comfyui.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            message = "no simulated pods here: this server runs on a real RunPod account"
            await problem(404, "not_found", message)(scope, receive, send)
