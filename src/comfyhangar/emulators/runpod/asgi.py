"""The ASGI front: routing (404/405), bearer auth, rate limits, injected faults, lost replies."""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from comfyhangar.emulators.runpod.config import POD_KEY_PREFIX
from comfyhangar.emulators.runpod.problems import ApiError, problem_response

if TYPE_CHECKING:
    from comfyhangar.emulators.runpod.emulator import RunPodEmulator

Handler = Callable[["RunPodEmulator", Request, dict[str, str]], Awaitable[Response]]

# Parts of RunPod REST v2 that exist but that the emulator does not serve: 501, not 404.
# What a pod-scoped key may open: its own pod, and that pod's actions.
_OWN_POD = re.compile(r"/v2/pods/(?P<id>[a-z0-9]+)(?P<action>/action)?\Z")
NOT_EMULATED = re.compile(
    r"^/v2/(clusters|serverless|registries|account)(/.*)?$"
    r"|^/v2/billing(/(serverless|endpoints|clusters))?$"
    r"|^/v2/catalog/cpus(/[^/]+)?$"
)


class LostResponse(Exception):
    """Raised by a handler whose work is done but whose answer must never arrive cleanly."""

    def __init__(self, status: int, body: bytes, stall_s: float) -> None:
        super().__init__("simulated lost response")
        self.status = status
        self.body = body
        self.stall_s = stall_s


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


class EmulatorApp:
    """ASGI app dispatching `/v2/...` requests to handlers, RunPod-style around them."""

    def __init__(
        self, emu: RunPodEmulator, routes: list[tuple[str, Mapping[str, Handler]]]
    ) -> None:
        self.emu = emu
        self.routes = [
            (re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), methods)
            for path, methods in routes
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except LostResponse as lost:
            await self._lose(lost, send)
            return
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        token = request.headers.get("authorization", "")
        scheme, _, key = token.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return problem_response(401, "missing bearer token")
        key = key.strip()
        if key.startswith(POD_KEY_PREFIX):
            refused = self._pod_scoped(request, key)
            if refused is not None:
                return refused
        else:
            read_only = key == self.emu.config.read_only_key
            if self.emu.config.api_key is not None and key != self.emu.config.api_key and not read_only:  # fmt: skip
                return problem_response(401, "invalid bearer token")
            if read_only and request.method not in ("GET", "HEAD"):
                return problem_response(403, "access denied")
        self.emu.enforce_balance()
        response = await self._authorized(request)
        response.headers.update(self.emu.limiter.headers())
        return response

    def _pod_scoped(self, request: Request, key: str) -> Response | None:
        """A pod-scoped key (`RUNPOD_API_KEY` inside a pod) opens only its own pod: reading it
        and its actions. None when allowed; else the refusal."""
        match = _OWN_POD.search(request.url.path)
        if match is None or not hmac.compare_digest(key, self.emu.pod_key(match["id"])):
            if any(hmac.compare_digest(key, self.emu.pod_key(p)) for p in self.emu.pod_ids()):
                return problem_response(403, "access denied: a pod-scoped key opens only its own pod")  # fmt: skip
            return problem_response(401, "invalid bearer token")
        allowed = ("GET", "HEAD") if match["action"] is None else ("POST",)
        if request.method not in allowed:
            return problem_response(403, "access denied: a pod-scoped key opens only its own pod")
        return None

    async def _authorized(self, request: Request) -> Response:
        faults = self.emu.faults
        retry_after = faults.take_429()
        window_name = "minute"
        if retry_after is None:
            window = self.emu.limiter.take()
            if window is not None:
                retry_after, window_name = self.emu.limiter.retry_after(window), window.name
        if retry_after is not None:
            return problem_response(
                429,
                f"rate limit exceeded for the {window_name} window",
                headers={"Retry-After": str(retry_after)},
            )
        path = request.url.path
        for pattern, methods in self.routes:
            match = pattern.match(path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                allow = ", ".join(methods)
                detail = "The requested method is not allowed for this path."
                return problem_response(405, detail, headers={"Allow": allow})
            if faults.latency_s > 0:
                await asyncio.sleep(faults.latency_s)
            if faults.hold_creates is not None and request.method == "POST" and path == "/v2/pods":
                await faults.hold_creates.wait()
            if faults.error_rate > 0 and self.emu.fault_rng.random() < faults.error_rate:
                status = self.emu.fault_rng.choice((500, 502, 503))
                return problem_response(status, "simulated upstream failure")
            try:
                return await handler(self.emu, request, match.groupdict())
            except ApiError as error:
                return error.response()
        if NOT_EMULATED.match(path):
            return problem_response(501, "not implemented by the ComfyHangar RunPod emulator")
        return problem_response(404, "resource not found")

    async def _lose(self, lost: LostResponse, send: Send) -> None:
        """Send the status and headers and part of the body, then return without finishing:
        the server closes the connection, so the client sees it drop mid-body."""
        if lost.stall_s > 0:
            await asyncio.sleep(lost.stall_s)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(lost.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": lost.status, "headers": headers})
        half = lost.body[: len(lost.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
