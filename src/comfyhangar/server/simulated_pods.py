"""The simulated pods' ComfyUI on the server's own port: `/simulated-pods/{pod_id}/comfyui/...`.

In the simulated cloud, "Open ComfyUI" sends the browser here: the same origin as the
dashboard, so it works wherever the dashboard does (loopback, an SSH tunnel, a published
container port, a reverse proxy). The embedded emulator's `PodComfyUIs.app` answers, with the
pod agent's token rules (`emulators/runpod/pod_proxy.py`). This middleware sits inside the Host
check (a rebinding page cannot reach it) and outside the API's body limit (ComfyUI's uploads
have their own, `--max-upload-size`). With a real RunPod key nothing is served here: 404.

Sharing the dashboard's origin is safe because every answer from there carries
`Content-Security-Policy: sandbox` (a file served by `/view`, an SVG say, runs in an opaque
origin: it can reach neither the dashboard's API nor its storage) and `nosniff`; the pod's
token cookie is scoped to the pod's path.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comfyhangar.emulators.runpod.pod_comfyui import PATH_PREFIX
from comfyhangar.server.errors import problem

#: Added to every HTTP answer of the pods' ComfyUI on the dashboard's origin.
SANDBOX_HEADERS = (
    (b"content-security-policy", b"sandbox"),
    (b"x-content-type-options", b"nosniff"),
)


def _sandboxed(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] in ("http.response.start", "websocket.http.response.start"):
            kept = [h for h in message.get("headers", []) if h[0].lower() not in _SANDBOXED]
            message = {**message, "headers": [*kept, *SANDBOX_HEADERS]}
        await send(message)

    return sending


_SANDBOXED = {name for name, _ in SANDBOX_HEADERS}


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
            await emulator.comfyui.app(scope, receive, _sandboxed(send))
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            message = "no simulated pods here: this server runs on a real RunPod account"
            await problem(404, "not_found", message)(scope, receive, send)
