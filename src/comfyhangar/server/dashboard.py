"""Serving the built dashboard (the React app from `web/`) at `/`.

The hatch build hook builds `web/` into `static/web/` during `uv sync`/`uv run` and ships it in
the wheel. Hashed files under `/assets/` are cached for good; `index.html` is answered for every
other non-API path (the app routes on the client) and is never cached, so a new build shows at
once. Without a build (a checkout built with `HANGAR_SKIP_WEB_BUILD`), `/` says how to get one
and the API keeps working.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

WEB_BUILD = Path(__file__).parent / "static" / "web"
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>ComfyHangar</title>
<body style="font-family:system-ui;background:#0b0f14;color:#e5e7eb;padding:2rem">
<h1>ComfyHangar</h1><p>The dashboard has not been built. It builds by itself during
<code>uv run</code> when Node 20.19+ and npm are on PATH (unless HANGAR_SKIP_WEB_BUILD is set).
The API is up: <a style="color:#60a5fa" href="/api/v1/docs">/api/v1/docs</a>.</p></body>"""


class ImmutableStaticFiles(StaticFiles):
    """Static files whose names carry a content hash: cache them for a year."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def install_dashboard(app: FastAPI, *, api_prefix: str, build: Path = WEB_BUILD) -> None:
    """Serve the dashboard at `/` as the router's fallback: only requests that no API route
    matches reach it (so a wrong method on an API path is still a 405), and paths under
    `api_prefix` always get the API's JSON 404, never the app's HTML."""
    if (build / "assets").is_dir():
        app.mount("/assets", ImmutableStaticFiles(directory=build / "assets"), name="web-assets")
    not_found = app.router.default
    root = build.resolve()
    index = build / "index.html"

    async def dashboard(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or path == api_prefix
            or path.startswith(api_prefix + "/")
        ):
            await not_found(scope, receive, send)
            return
        response: Response
        file = (build / path.lstrip("/")).resolve()
        if path != "/" and file.is_file() and file.is_relative_to(root):
            response = FileResponse(file)  # favicon.svg and the like
        elif index.is_file():
            response = FileResponse(index, headers={"Cache-Control": "no-cache"})
        else:
            response = HTMLResponse(NOT_BUILT, status_code=503)
        await response(scope, receive, send)

    app.router.default = dashboard
