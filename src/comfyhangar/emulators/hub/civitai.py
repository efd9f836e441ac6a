"""Civitai's two routes the agent and preflight use.

- `GET /api/v1/model-versions/{id}`: public metadata (a login wall does not hide it), with
  `files[]` (`name`, `sizeKB`, `type`, `primary`, `hashes.SHA256` in upper case, `downloadUrl`).
- `GET /api/download/models/{id}` (`?type=` picks a file): a 307 to the CDN whose answer names
  the file in `Content-Disposition`; a version that needs a login is a 401 without an API key
  (`Authorization: Bearer <key>` or `?token=<key>`, as Civitai documents both).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfyhangar.emulators.hub import rules
from comfyhangar.emulators.hub.catalog import CivitaiFile, CivitaiVersion
from comfyhangar.emulators.hub.errors import JSON, HubError, civitai_error

if TYPE_CHECKING:
    from comfyhangar.emulators.hub.emulator import HubEmulator

PUBLISHED_AT = "2023-07-29T20:27:51.000Z"  # one fixed date for every stand-in version


def download_url(base: str, version: CivitaiVersion, file: CivitaiFile) -> str:
    """The `downloadUrl` Civitai lists for a file (the primary one needs no `type`)."""
    url = f"{base}/api/download/models/{version.id}"
    return url if file.primary else f"{url}?type={quote(file.type)}"


def version_body(base: str, version: CivitaiVersion) -> dict[str, Any]:
    """The model-version document, trimmed to the fields a downloader reads and a few more."""
    files = [
        {
            "id": f.id,
            "sizeKB": f.size_kb,
            "name": f.name,
            "type": f.type,
            "pickleScanResult": "Success",
            "virusScanResult": "Success",
            "scannedAt": PUBLISHED_AT,
            "metadata": {"format": "SafeTensor"},
            "hashes": {"AutoV2": f.blob.sha256[:10].upper(), "SHA256": f.blob.sha256.upper()},
            "primary": f.primary,
            "downloadUrl": download_url(base, version, f),
        }
        for f in version.files
    ]
    return {
        "id": version.id,
        "modelId": version.model_id,
        "name": version.name,
        "createdAt": PUBLISHED_AT,
        "updatedAt": PUBLISHED_AT,
        "status": "Published",
        "publishedAt": PUBLISHED_AT,
        "trainedWords": [],
        "baseModel": version.base_model,
        "description": None,
        "stats": {"downloadCount": 0, "ratingCount": 0, "rating": 0, "thumbsUpCount": 0},
        "model": {
            "name": version.model_name,
            "type": version.model_type,
            "nsfw": False,
            "poi": False,
        },
        "files": files,
        "images": [],
        "downloadUrl": f"{base}/api/download/models/{version.id}",
    }


def build_app(hub: HubEmulator) -> Starlette:
    """The Civitai app of `hub`."""

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def model_version(request: Request) -> Response:
        hub.record("civitai", request)
        try:
            version = rules.civitai_version(hub.catalog, _version_id(request))
        except HubError as refusal:
            return refusal.response()
        return Response(json.dumps(version_body(base(request), version)), media_type=JSON)

    async def download(request: Request) -> Response:
        hub.record("civitai", request)
        token = rules.bearer(request.headers.get("authorization"))
        token = token or request.query_params.get("token")
        try:
            version, file = rules.civitai_download(hub.catalog, _version_id(request), token)
            wanted = request.query_params.get("type")
            if wanted is not None:
                found = next((f for f in version.files if f.type == wanted), None)
                if found is None:
                    raise civitai_error(404, "Model file not found")
                file = found
        except HubError as refusal:
            return refusal.response()
        location = hub.publish_civitai(version, file, f'attachment; filename="{file.name}"')
        return Response(status_code=307, headers={"Location": location})

    return Starlette(
        routes=[
            Route("/api/v1/model-versions/{vid}", model_version, methods=["GET"]),
            Route("/api/download/models/{vid}", download, methods=["GET", "HEAD"]),
        ]
    )


def _version_id(request: Request) -> int:
    raw = request.path_params["vid"]
    if not raw.isdigit() or int(raw) == 0:
        raise civitai_error(400, f"Invalid id: {raw}")
    return int(raw)
