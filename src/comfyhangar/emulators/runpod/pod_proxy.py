"""The way in to simulated pods' ComfyUI: `/simulated-pods/{pod_id}/comfyui/...`, token-checked.

It plays RunPod's proxy and the pod agent's token proxy (`comfyhangar.agent.proxy`, which this
package may not import) together, with the agent's rules:

- a pod whose ComfyUI is not up (unknown, stopped, still setting up, setup failed) answers 502
  to anything, as RunPod's proxy does for a port nothing listens on;
- a request must carry the pod token as `Authorization: Bearer <token>`, `X-Hangar-Token:
  <token>`, the `hangar_token` cookie, or `?token=<token>`; a GET or HEAD (not a WebSocket)
  with the query token is answered with a redirect to the same URL without it and an HttpOnly
  cookie (scoped to the pod's path, so pods do not overwrite each other's), so a browser link
  works; anything else is 401 (a WebSocket is refused with 401);
- the token is stripped (query, header, cookie) before the request reaches ComfyUI, which sees
  the path below the prefix (`/prompt`, `/ws`, ...).

The bare prefix `/simulated-pods/{pod_id}/comfyui` redirects to its `/`, so that the relative
links of ComfyUI's page resolve under the prefix.
"""

from __future__ import annotations

import hmac
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from comfyhangar.emulators.runpod.pod_comfyui import PATH_PREFIX, comfyui_path

if TYPE_CHECKING:
    from comfyhangar.emulators.runpod.pod_comfyui import PodComfyUIs

COOKIE = "hangar_token"
_PATH = re.compile(rf"^{re.escape(PATH_PREFIX)}/(?P<pod>[a-z0-9]{{1,64}})/comfyui(?P<rest>/.*)?$")
_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,256}")  # the agent's `valid_token`


def _accepts(expected: str | None, candidate: str | None) -> bool:
    """Constant-time check of one presented token against the pod's (none: nothing passes)."""
    if not expected or not _TOKEN.fullmatch(expected) or candidate is None:
        return False
    return hmac.compare_digest(candidate.encode("utf-8", "replace"), expected.encode())


def _presented(headers: Headers) -> list[str]:
    found: list[str] = []
    for name, value in headers.items():
        if name == "authorization":
            scheme, _, credential = value.strip().partition(" ")
            if scheme.lower() == "bearer":
                found.append(credential.strip())
        elif name == "x-hangar-token":
            found.append(value.strip())
        elif name == "cookie":
            for item in value.split(";"):
                key, _, val = item.strip().partition("=")
                if key == COOKIE:
                    found.append(val)
    return found


def _forwarded_headers(scope: Scope, token: str) -> list[tuple[bytes, bytes]]:
    """The request's headers without the token (header, bearer, cookie)."""
    out: list[tuple[bytes, bytes]] = []
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "x-hangar-token":
            continue
        if name == "authorization" and _accepts(token, value.strip().partition(" ")[2].strip()):
            continue
        if name == "cookie":
            kept = [c for c in value.split(";") if c.strip().split("=", 1)[0] != COOKIE]
            if kept:
                out.append((raw_name, ";".join(kept).strip().encode("latin-1")))
            continue
        out.append((raw_name, raw_value))
    return out


def _inner_raw_path(scope: Scope, base: str, path: str) -> bytes:
    """The request's raw (still percent-encoded) path below `base`."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw.startswith(base.encode()):
        return raw[len(base) :].split(b"?", 1)[0] or b"/"
    return path.encode("utf-8")


def _text(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers=headers, media_type="text/plain; charset=utf-8")


async def _refuse(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    if scope["type"] == "websocket":
        ws = WebSocket(scope, receive, send)
        try:
            await ws.send_denial_response(response)
        except RuntimeError:  # the server has no denial-response extension
            await ws.close()
        return
    await response(scope, receive, send)


class PodProxyApp:
    """ASGI app: routes `/simulated-pods/{pod_id}/comfyui/...` to that pod's ComfyUI."""

    def __init__(self, pods: PodComfyUIs) -> None:
        self.pods = pods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to start: instances start on demand
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self.pods.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] not in ("http", "websocket"):
            return
        match = _PATH.match(scope["path"])
        if match is None:
            await _refuse(scope, receive, send, Response(b"", 404))
            return
        pod_id, rest = match["pod"], match["rest"]
        emu = self.pods.serving(pod_id)
        if emu is None:
            await _refuse(scope, receive, send, _text(502, "502 Bad Gateway\n"))
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        query_token = next((v for k, v in query if k == "token"), None)
        clean_query = urlencode([(k, v) for k, v in query if k != "token"])
        token = self.pods.token(pod_id) or ""
        base = comfyui_path(pod_id)
        websocket = scope["type"] == "websocket"
        if rest is None and not websocket:  # the bare prefix: ComfyUI's page is at its `/`
            location = base + "/" + (f"?{scope['query_string'].decode('latin-1')}" if query else "")
            await RedirectResponse(location, 307)(scope, receive, send)
            return
        path = rest or "/"
        if _accepts(token, query_token) and scope.get("method") in ("GET", "HEAD"):
            secure = "; Secure" if scope.get("scheme") in ("https", "wss") else ""
            cookie = f"{COOKIE}={token}; Path={base}/; HttpOnly{secure}; SameSite=Lax"
            location = base + path + (f"?{clean_query}" if clean_query else "")
            headers = {"Location": location, "Set-Cookie": cookie, "Cache-Control": "no-store"}
            await Response(b"", 302, headers=headers)(scope, receive, send)
            return
        presented = [query_token, *_presented(Headers(scope=scope))]
        if not any(_accepts(token, t) for t in presented):
            challenge = {"WWW-Authenticate": 'Bearer realm="comfyhangar"'}
            await _refuse(scope, receive, send, _text(401, "missing or wrong token\n", challenge))
            return
        inner: dict[str, Any] = {
            **scope,
            "path": path,
            "raw_path": _inner_raw_path(scope, base, path),
            "root_path": "",
            "query_string": clean_query.encode("latin-1"),
            "headers": _forwarded_headers(scope, token),
        }
        await emu.app(inner, receive, send)
