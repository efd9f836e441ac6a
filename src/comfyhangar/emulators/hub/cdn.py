"""The CDN both hubs redirect to: presigned URLs, bytes with ranges, no token needed.

Like Hugging Face's `cdn-lfs` and Civitai's object storage, the URL carries its own signature
(`Expires`, `Signature`, over the path, the expiry and the `response-content-disposition` it
names): a wrong or expired one is a 403 `AccessDenied`, as S3/CloudFront answer. The CDN runs
on an origin of its own, so a client that follows the redirect with the hub's token is seen
(`HubEmulator.requests` records whether an `Authorization` header came, never its value).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfyhangar.emulators.hub.catalog import HubFile
from comfyhangar.emulators.hub.transfer import serve

ACCESS_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>{}</Message></Error>"
)


class Signer:
    """Presigns CDN paths with an HMAC that expires `ttl_s` after signing."""

    def __init__(self, secret: bytes, ttl_s: float, clock: Callable[[], float] = time.time):
        self._secret = secret
        self.ttl_s = ttl_s
        self._clock = clock

    def query(self, path: str, disposition: str) -> str:
        """The query string that makes `path` downloadable until the expiry."""
        expires = str(int(self._clock() + self.ttl_s))
        return urlencode(
            {
                "response-content-disposition": disposition,
                "Expires": expires,
                "Signature": self._mac(path, expires, disposition),
            }
        )

    def refusal(self, path: str, params: dict[str, str]) -> str | None:
        """Why a request for `path` with these query parameters is refused, or None."""
        expires, signature = params.get("Expires", ""), params.get("Signature", "")
        disposition = params.get("response-content-disposition", "")
        if not expires.isdigit() or not signature:
            return "Missing signature"
        if not hmac.compare_digest(signature, self._mac(path, expires, disposition)):
            return "Invalid signature"
        if int(expires) < self._clock():
            return "Request has expired"
        return None

    def _mac(self, path: str, expires: str, disposition: str) -> str:
        message = f"{path}\n{expires}\n{disposition}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def build_app(
    lookup: Callable[[str], HubFile | None],
    signer: Signer,
    record: Callable[[Request], None],
    count: Callable[[HubFile, int], None],
) -> Starlette:
    """The CDN app: `lookup(path)` finds a published object; `record` and `count` account."""

    async def get_object(request: Request) -> Response:
        record(request)
        path = request.url.path
        why = signer.refusal(path, dict(request.query_params))
        file = lookup(path)
        if why is not None or file is None:
            return Response(
                ACCESS_DENIED.format(why or "Access Denied"),
                status_code=403,
                media_type="application/xml",
            )
        headers = {
            "ETag": f'"{file.sha256}"',
            "Content-Disposition": request.query_params["response-content-disposition"],
            "Cache-Control": "public, max-age=604800, immutable",
        }
        return serve(
            request,
            file.content,
            headers,
            media_type="binary/octet-stream",
            on_bytes=lambda n: count(file, n),
        )

    return Starlette(routes=[Route("/{key:path}", get_object, methods=["GET", "HEAD"])])
