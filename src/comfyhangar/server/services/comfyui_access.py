"""Where a deployment's ComfyUI answers: the one place the server asks for it.

`await runtime.comfyui.comfyui_endpoint(deployment)` (a `ComfyUIAccess`, made once per server
by `Runtime.start`) gives a `ComfyEndpoint`: a base URL and the headers (the pod token) that
`comfyhangar.comfyui.ComfyUIClient(base_url, headers=headers)` uses as they are, and where a
browser opens the same ComfyUI ("Open ComfyUI").

- Real RunPod: `https://{pod_id}-8188.proxy.runpod.net`, RunPod's HTTP proxy in front of the
  pod agent's token proxy, for the server and the browser alike.
- Simulated cloud: the embedded emulator's pods' ComfyUI at
  `/simulated-pods/{pod_id}/comfyui`. The server's clients get it on the emulator's loopback
  port (`Cloud.simulated_pods_url`: reachable from the server process whatever its own port,
  TLS or proxy set-up); the browser gets the same path on the server's own origin
  (`server/simulated_pods.py`), so it works wherever the dashboard does.

Either way the pod token goes as `Authorization: Bearer ...` (the browser link carries it
once as `?token=`, which the token proxy trades for an HttpOnly cookie). Only a ready
deployment has a ComfyUI to reach: any other state is a 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from comfyhangar.core.errors import Conflict
from comfyhangar.core.lifecycle import DeploymentState
from comfyhangar.emulators.runpod.pod_comfyui import comfyui_path
from comfyhangar.server.db.models import ComfyUIServer, Deployment
from comfyhangar.server.services.pod_spec import comfyui_url
from comfyhangar.server.services.secrets import SecretBox

PodTokens = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class ComfyEndpoint:
    """How to reach one deployment's ComfyUI.

    - `base_url`: for the server's own clients (`ComfyUIClient(base_url, headers=headers)`),
      absolute, without a trailing slash; ComfyUI's routes are below it (`/prompt`, `/ws`).
    - `headers`: what every request to it must carry (the pod token). Secret: never shown.
    - `browser_url`: where a person opens it: absolute for RunPod, a path on this server's
      own origin for the simulated cloud; `browser_link()` adds the one-time token.
    """

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    browser_url: str = ""
    token: str | None = field(default=None, repr=False)

    def browser_link(self) -> str:
        """`browser_url` with `?token=` (the token proxy answers it with a cookie)."""
        if not self.token:
            return self.browser_url
        return f"{self.browser_url}?{urlencode({'token': self.token})}"


class ComfyUIAccess:
    """Answers `comfyui_endpoint(deployment)` for the cloud the server runs on.

    `pod_tokens(deployment_id)` reads a deployment's pod token; `simulated_pods_url` is the
    loopback base URL of the simulated pods' ComfyUI (None: the cloud is real RunPod);
    `secret_box` opens a registered server's stored auth header value (None: stored as is,
    only in services built by hand in tests).
    """

    def __init__(
        self,
        pod_tokens: PodTokens,
        simulated_pods_url: str | None = None,
        secret_box: SecretBox | None = None,
    ) -> None:
        self._pod_tokens = pod_tokens
        self._simulated = simulated_pods_url.rstrip("/") if simulated_pods_url else None
        self._box = secret_box

    def server_endpoint(self, server: ComfyUIServer) -> ComfyEndpoint:
        """A registered ComfyUI server, with its auth header (decrypted here, only here)."""
        headers = {}
        if server.auth_header_name and server.auth_header_value is not None:
            stored = server.auth_header_value
            headers[server.auth_header_name] = self._box.open(stored) if self._box else stored
        return ComfyEndpoint(server.url.rstrip("/"), headers)

    async def comfyui_endpoint(self, deployment: Deployment) -> ComfyEndpoint:
        """The ComfyUI of a ready deployment (409 `conflict` in any other state)."""
        if deployment.state != DeploymentState.READY.value or deployment.pod_id is None:
            raise Conflict(f"deployment {deployment.id} is {deployment.state}, not ready")
        token = await self._pod_tokens(deployment.id)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if self._simulated is not None:
            path = comfyui_path(deployment.pod_id)
            return ComfyEndpoint(f"{self._simulated}{path}", headers, f"{path}/", token)
        url = comfyui_url(deployment.pod_id)
        return ComfyEndpoint(url.rstrip("/"), headers, url, token)
