"""The emulator's ASGI app: ComfyUI's routes, each also under `/api`, and the WebSocket.

Answers are shaped like aiohttp's (JSON with its spacing and `charset=utf-8`, empty 200s without
a content type, `404` with an empty body for paths nothing serves, the plain-text `500` of an
exception). Faults (`faults.py`) act here, before or after the handler.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from comfyhangar.emulators.comfyui.files import PathRefused
from comfyhangar.emulators.comfyui.nodes.placeholders import MODEL_FOLDERS

if TYPE_CHECKING:
    from comfyhangar.emulators.comfyui.emulator import ComfyUIEmulator

logger = logging.getLogger("comfyhangar.emulators.comfyui")

Handler = Callable[["ComfyUIEmulator", Request, dict[str, str]], Awaitable[Response]]

SERVER_ERROR = "500 Internal Server Error\n\nServer got itself in trouble"
NOT_RUNNING = "ComfyUI is not running (yet)\n"
_FORCED_DOWNLOAD = {"text/html", "text/html-sandboxed", "application/xhtml+xml", "text/javascript", "text/css"}  # fmt: skip


class BodyTooLarge(Exception):
    """The request body is over `--max-upload-size`."""


def json_response(body: Any, status: int = 200) -> Response:
    """aiohttp's `web.json_response`: `json.dumps` with its default spacing."""
    return Response(json.dumps(body), status, media_type="application/json; charset=utf-8")


def empty(status: int = 200) -> Response:
    """aiohttp's bare `web.Response(status=...)`: no body, no content type."""
    return Response(b"", status)


def text(body: str, status: int) -> Response:
    return Response(body, status, media_type="text/plain; charset=utf-8")


async def read_json(request: Request, limit: int) -> Any:
    """The JSON body; a body that is not JSON raises (a 500, as in ComfyUI)."""
    return json.loads(await read_body(request, limit))


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge()
    return bytes(body)


# --- handlers --------------------------------------------------------------------------------


async def get_root(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    # Relative links: the page also works under a path prefix (a simulated pod's ComfyUI is
    # at `/simulated-pods/{pod_id}/comfyui/` of the ComfyHangar server).
    links = "".join(
        f'<li><a href="{href}"><code>{label}</code></a></li>'
        for href, label in (
            ("api/system_stats", "GET /system_stats"),
            ("api/object_info", "GET /object_info"),
            ("api/queue", "GET /queue"),
            ("api/history?max_items=20", "GET /history"),
            ("api/models", "GET /models"),
        )
    )
    device = html.escape(emu.config.device.name.split(" : ")[0])
    page = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>ComfyUI (simulated)</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;"
        "padding:0 1rem;color:#0f172a}code{font-size:.95em}</style>"
        "<h1>Simulated ComfyUI 0.3.64, emulated by ComfyHangar</h1>"
        "<p>This pod is simulated: its API works (queue, progress, history, images, "
        "uploads, the <code>/ws</code> WebSocket), but there is no node editor. "
        "Run workflows from ComfyHangar, or through the API:</p>"
        f"<ul>{links}</ul><p>Device: <code>{device}</code> (simulated).</p></html>"
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


async def get_prompt(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    return json_response(emu.queue_info())


async def post_prompt(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    body = await read_json(request, emu.config.max_upload_bytes)
    if isinstance(body, (list, str)):  # `"prompt" in body` is false for these in ComfyUI too
        emu.number += 1
        return json_response({"error": {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided", "extra_info": {}}, "node_errors": {}}, 400)  # fmt: skip
    if not isinstance(body, dict):
        raise TypeError("body is not an object")
    status, answer = emu.submit(body)
    return json_response(answer, status)


async def get_queue(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    return json_response({"queue_running": emu.queue.running(), "queue_pending": emu.queue.pending()})  # fmt: skip


async def post_queue(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    body = await read_json(request, emu.config.max_upload_bytes)
    if body.get("clear"):
        emu.queue.wipe()
    for prompt_id in body.get("delete", []) if "delete" in body else []:
        emu.queue.delete(prompt_id)
    return empty()


async def post_interrupt(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    try:
        body = await read_json(request, emu.config.max_upload_bytes)
    except json.JSONDecodeError:
        body = {}
    emu.request_interrupt(body.get("prompt_id"))
    return empty()


async def post_free(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    body = await read_json(request, emu.config.max_upload_bytes)
    if body.get("unload_models", False):
        emu.queue.set_flag("unload_models", body["unload_models"])
    if body.get("free_memory", False):
        emu.queue.set_flag("free_memory", body["free_memory"])
    return empty()


async def get_history(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    max_items = request.query_params.get("max_items")
    offset = request.query_params.get("offset")
    page = emu.queue.history_page(
        int(max_items) if max_items is not None else None, int(offset) if offset is not None else -1
    )
    return json_response(page)


async def get_history_entry(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    return json_response(emu.queue.history_of(params["prompt_id"]))


async def post_history(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    body = await read_json(request, emu.config.max_upload_bytes)
    if body.get("clear"):
        emu.queue.history.clear()
    for prompt_id in body.get("delete", []) if "delete" in body else []:
        emu.queue.history.pop(prompt_id, None)
    return empty()


async def get_view(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    query = request.query_params
    if "filename" not in query:
        return empty(404)
    try:
        path = emu.files.viewable(query["filename"], query.get("type"), query.get("subfolder"))
    except PathRefused as refused:
        return empty(refused.status)
    except FileNotFoundError:
        return empty(404)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type in _FORCED_DOWNLOAD:
        content_type = "application/octet-stream"
    return FileResponse(
        path, media_type=content_type, headers={"Content-Disposition": f'filename="{path.name}"'}
    )


async def post_upload_image(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    body = await read_body(request, emu.config.max_upload_bytes)
    form = _parse_form(request.headers.get("content-type", ""), body)
    image = form.get("image")
    if image is None or image[0] is None:
        return empty(400)
    filename, data = image
    if not filename:
        return empty(400)
    kind = _field(form, "type")
    subfolder = _field(form, "subfolder") or ""
    overwrite = _field(form, "overwrite") in ("true", "1")
    try:
        name, folder, stored_kind = emu.files.store_upload(filename, data, kind, subfolder, overwrite)  # fmt: skip
    except PathRefused as refused:
        return empty(refused.status)
    return json_response({"name": name, "subfolder": folder, "type": stored_kind})


async def get_object_info(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    return json_response(emu.object_info())


async def get_object_info_class(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    name = params["node_class"]
    return json_response({name: emu.definition(name)} if name in emu.nodes else {})


async def get_system_stats(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    device = emu.config.device
    vram = device.vram_total if device.type != "cpu" else device.ram_total
    stats = {
        "system": {
            "os": "posix",
            "ram_total": device.ram_total,
            "ram_free": device.ram_total * 9 // 10,
            "comfyui_version": "0.3.64",
            "required_frontend_version": "1.27.10",
            "installed_templates_version": "0.1.95",
            "required_templates_version": "0.1.95",
            "python_version": "3.11.10 (main, Sep  7 2024, 18:35:41) [GCC 11.4.0]",
            "pytorch_version": "2.8.0+cu128",
            "embedded_python": False,
            "argv": list(emu.config.argv),
        },
        "devices": [
            {
                "name": device.name,
                "type": device.type,
                "index": device.index,
                "vram_total": vram,
                "vram_free": vram * 9 // 10,
                "torch_vram_total": vram,
                "torch_vram_free": vram * 9 // 10,
            }
        ],
    }
    return json_response(stats)


async def get_features(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    return json_response(dict(emu.features))


async def get_models(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:
    return json_response(list(MODEL_FOLDERS))


async def get_model_folder(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    folder = params["folder"]
    if folder not in MODEL_FOLDERS:
        return empty(404)
    return json_response(emu.models.get(folder, []))


async def get_embeddings(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    return json_response([name.rsplit(".", 1)[0] for name in emu.models.get("embeddings", [])])


async def get_extensions(emu: ComfyUIEmulator, request: Request, params: dict[str, str]) -> Response:  # fmt: skip
    return json_response([])


ROUTES: list[tuple[str, dict[str, Handler]]] = [
    ("/prompt", {"GET": get_prompt, "POST": post_prompt}),
    ("/queue", {"GET": get_queue, "POST": post_queue}),
    ("/interrupt", {"POST": post_interrupt}),
    ("/free", {"POST": post_free}),
    ("/history", {"GET": get_history, "POST": post_history}),
    ("/history/{prompt_id}", {"GET": get_history_entry}),
    ("/view", {"GET": get_view}),
    ("/upload/image", {"POST": post_upload_image}),
    ("/object_info", {"GET": get_object_info}),
    ("/object_info/{node_class}", {"GET": get_object_info_class}),
    ("/system_stats", {"GET": get_system_stats}),
    ("/features", {"GET": get_features}),
    ("/models", {"GET": get_models}),
    ("/models/{folder}", {"GET": get_model_folder}),
    ("/embeddings", {"GET": get_embeddings}),
    ("/extensions", {"GET": get_extensions}),
]


# --- the app ---------------------------------------------------------------------------------


class ComfyUIApp:
    """Dispatches HTTP and WebSocket requests to the emulator, ComfyUI-style around them."""

    def __init__(self, emu: ComfyUIEmulator) -> None:
        self.emu = emu
        self.routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []
        for path, methods in ROUTES:
            pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
            self.routes.append((re.compile(f"^(?:/api)?{pattern}$"), methods))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        self.emu.ensure_started()
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] == "http":
            response = await self._http(Request(scope, receive))
            await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.emu.ensure_started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.emu.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        if scope["path"] not in ("/ws", "/api/ws"):
            await ws.close()
            return
        faults = self.emu.faults
        if faults.down or faults.refuse_websockets or _origin_refused(ws.headers):
            status = 403 if _origin_refused(ws.headers) else 502
            try:
                await ws.send_denial_response(text(NOT_RUNNING if status == 502 else "", status))
            except RuntimeError:  # the server has no denial-response extension
                await ws.close()
            return
        await self.emu.hub.serve(ws)

    async def _http(self, request: Request) -> Response:
        faults = self.emu.faults
        path = request.url.path
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        if faults.down:
            return text(NOT_RUNNING, 502)
        if _origin_refused(request.headers):
            return empty(403)
        handler, params, allowed = self._route(request.method, path)
        if handler is None:
            if request.method in ("GET", "HEAD"):  # the static file route answers these
                return Response(b"", 404, media_type="application/octet-stream")
            if not allowed:
                return _not_allowed("GET,HEAD")  # fmt: skip
            return _not_allowed(",".join(allowed))
        fault = faults.take_route(request.method, path)
        if fault is not None and not fault.after_effect:
            return _fault_response(fault.status)
        try:
            response = await handler(self.emu, request, params)
        except ClientDisconnect:
            return empty(400)  # nobody is listening any more
        except BodyTooLarge:
            limit = self.emu.config.max_upload_bytes
            response = text(f"Maximum request body size {limit} exceeded, actual body size ...", 413)  # fmt: skip
        except Exception:
            logger.exception("the emulated ComfyUI failed on %s %s", request.method, path)
            response = text(SERVER_ERROR, 500)
        if (slow := faults.answer_delay(path)) > 0:
            await asyncio.sleep(slow)  # the work is done; only the answer is late
        if fault is not None:
            return _fault_response(fault.status)
        return response

    def _route(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], list[str]]:
        for pattern, methods in self.routes:
            match = pattern.match(path)
            if match is None:
                continue
            verb = "GET" if method == "HEAD" else method
            if verb in methods:
                return methods[verb], match.groupdict(), []
            allowed = [m for name in methods for m in (("GET", "HEAD") if name == "GET" else (name,))]  # fmt: skip
            return None, {}, allowed
        if path == "/" and method in ("GET", "HEAD"):
            return get_root, {}, []
        return None, {}, []


def build_app(emu: ComfyUIEmulator) -> ComfyUIApp:
    """The ASGI app of an emulator."""
    return ComfyUIApp(emu)


def _not_allowed(allow: str) -> Response:
    return Response("405: Method Not Allowed", 405, media_type="text/plain; charset=utf-8", headers={"Allow": allow})  # fmt: skip


def _fault_response(status: int) -> Response:
    if status == 500:
        return text(SERVER_ERROR, 500)
    reasons = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return text(f"{status} {reasons.get(status, 'Server Error')}\n", status)


def _origin_refused(headers: Any) -> bool:
    """ComfyUI's origin check: a loopback Host with an Origin of another host:port is refused."""
    host, origin = headers.get("host"), headers.get("origin")
    if not host or not origin:
        return False
    host_parts = urlsplit("//" + host.lower())
    origin_parts = urlsplit(origin.lower())
    if not _is_loopback(host_parts.hostname):
        return False
    host_domain = host_parts.hostname if origin_parts.port is None else host.lower()
    origin_domain = origin_parts.hostname if host_parts.port is None else origin_parts.netloc
    return bool(host_domain and origin_domain and host_domain != origin_domain)


def _is_loopback(hostname: str | None) -> bool:
    if not hostname:
        return False
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _parse_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data fields: name -> (file name or None, bytes)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in fields:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = (part.get_filename(), data)
    return fields


def _field(form: dict[str, tuple[str | None, bytes]], name: str) -> str | None:
    value = form.get(name)
    return value[1].decode("utf-8", "replace") if value is not None else None


__all__ = ["ComfyUIApp", "build_app"]
