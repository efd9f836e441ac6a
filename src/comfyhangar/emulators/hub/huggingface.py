"""Hugging Face's file route, `GET`/`HEAD {hf}/{org}/{repo}/resolve/{revision}/{path}`.

An LFS file is a 302 to the CDN carrying what `huggingface_hub.get_hf_file_metadata` reads:
`X-Linked-Size` (the real size; `Content-Length` is the redirect body's), `X-Linked-Etag` and
`ETag` (the quoted sha256), `X-Repo-Commit`. A plain git file is served by the hub itself (200 or
206) with its git blob id as `ETag`. Refusals: `rules.py`, `errors.py`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfyhangar.emulators.hub import rules
from comfyhangar.emulators.hub.errors import TEXT, HubError
from comfyhangar.emulators.hub.transfer import serve

if TYPE_CHECKING:
    from comfyhangar.emulators.hub.emulator import HubEmulator

EXPOSED = (
    "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"
    "Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash"
)


def disposition(name: str) -> str:
    """`Content-Disposition` as the hub words it for a file name."""
    return f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";"


def build_app(hub: HubEmulator) -> Starlette:
    """The Hugging Face app of `hub`."""

    async def resolve(request: Request) -> Response:
        hub.record("hf", request)
        params = request.path_params
        repo_id = f"{params['org']}/{params['repo']}"
        token = rules.bearer(request.headers.get("authorization"))
        try:
            repo, commit, file = rules.hf_resolve(
                hub.catalog, repo_id, params["revision"], params["path"], token
            )
        except HubError as refusal:
            return _common(refusal.response())
        headers = {"X-Repo-Commit": commit, "ETag": f'"{file.etag}"'}
        if not file.lfs:
            headers["Content-Disposition"] = disposition(file.name)
            return _common(serve(request, file.content, headers, media_type=TEXT))
        location = hub.publish_hf(repo, file, disposition(file.name))
        body = f"Found. Redirecting to {location}".encode()
        headers |= {
            "Location": location,
            "X-Linked-Size": str(file.size),
            "X-Linked-Etag": f'"{file.sha256}"',
            "Accept-Ranges": "bytes",
            "Content-Length": str(len(body)),
        }
        answer = b"" if request.method == "HEAD" else body
        return _common(Response(answer, status_code=302, headers=headers, media_type=TEXT))

    return Starlette(
        routes=[
            Route(
                "/{org}/{repo}/resolve/{revision}/{path:path}",
                resolve,
                methods=["GET", "HEAD"],
            )
        ]
    )


def _common(response: Response) -> Response:
    """Headers every hub answer carries."""
    response.headers["X-Powered-By"] = "huggingface-moon"
    response.headers["X-Request-Id"] = f"Root=1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    response.headers["Vary"] = "Origin"
    return response
