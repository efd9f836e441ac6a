"""Security headers on every response: the dashboard, the API docs, the API and its errors.

- `Content-Security-Policy`: scripts, styles, images and connections from this server only
  (no inline script, no `eval`); no plugins; no `<base>`; forms post only here; and
  `frame-ancestors 'none'`, so no other site can frame a page (clickjacking). Inline styles
  are allowed: the charts and Swagger UI set them, and they cannot run code.
- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` (older browsers),
  `Referrer-Policy: same-origin` (no address of ours reaches another site),
  `Cross-Origin-Opener-Policy` and `Cross-Origin-Resource-Policy: same-origin`.
- `Strict-Transport-Security` when a TLS proxy is in front (`HANGAR_PUBLIC_URL`).

CORS stays off: the server never answers with `Access-Control-Allow-*`, so a page of another
origin can neither read a response nor send a request that needs a preflight.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000"


class SecurityHeaders:
    """ASGI middleware: adds the headers above to every HTTP response (a route's own value,
    such as `Referrer-Policy: no-referrer`, wins)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = {**HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
