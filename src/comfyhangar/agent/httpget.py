"""Minimal HTTP client for downloads: manual redirects with per-hop credentials.

`urllib` forwards request headers (an `Authorization` token included) to whatever host a
redirect names. Hugging Face and Civitai redirect to CDNs, so this module follows redirects
itself and asks `auth(url)` for the headers of every hop: a token goes only to the hosts it
belongs to and never follows a redirect to another host.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

USER_AGENT = "comfyhangar-agent/1"
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10

AuthFn = Callable[[str], dict[str, str]]


class HttpError(Exception):
    """A failed request; `retryable` tells whether trying again may help, `retry_after` when."""

    def __init__(
        self,
        message: str,
        status: int = 0,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class Hop:
    """A redirect that was followed: where it was, its status and its headers (names lower-case).

    The first hop of a Hugging Face download is where the hub publishes the file's size and
    sha256; the final response comes from a CDN that says nothing of them."""

    url: str
    status: int
    headers: dict[str, str]


@dataclass
class Response:
    """An open response: read `resp`, then call `close()`. `hops` are the redirects before it."""

    resp: http.client.HTTPResponse
    conn: http.client.HTTPConnection
    url: str
    hops: list[Hop] = field(default_factory=list)

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self.resp.status

    def header(self, name: str) -> str | None:
        """A response header, or None."""
        return self.resp.getheader(name)

    def headers(self) -> dict[str, str]:
        """The response headers, names lower-case."""
        return {k.lower(): v for k, v in self.resp.getheaders()}

    def close(self) -> None:
        """Close the response and its connection."""
        try:
            self.resp.close()
        finally:
            self.conn.close()


def no_auth(url: str) -> dict[str, str]:
    """An `AuthFn` that never sends credentials."""
    return {}


def open_url(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    auth: AuthFn = no_auth,
    allow_http: bool = False,
    timeout: float = 60.0,
) -> Response:
    """GET `url`, following redirects; `auth(hop_url)` adds credentials for each hop.

    Raises HttpError for a bad scheme, too many redirects, or a network failure. Statuses
    other than redirects are returned to the caller as they are.
    """
    context = ssl.create_default_context()
    hops: list[Hop] = []
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in (("https", "http") if allow_http else ("https",)):
            raise HttpError(f"refusing {parts.scheme or 'relative'} URL", retryable=False)
        if not parts.hostname:
            raise HttpError("URL has no host", retryable=False)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        hop_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        hop_headers.update(headers or {})
        hop_headers.update(auth(url))
        try:
            conn.request("GET", target, headers=hop_headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise HttpError(f"{parts.hostname}: {type(exc).__name__}: {exc}") from None
        location = resp.getheader("Location")
        if resp.status in REDIRECTS and location:
            hops.append(Hop(url, resp.status, {k.lower(): v for k, v in resp.getheaders()}))
            resp.read(65536)
            conn.close()
            url = urljoin(url, location)
            continue
        return Response(resp, conn, url, hops)
    raise HttpError("too many redirects", retryable=False)


def host_key(url: str) -> str:
    """`host[:port]` of a URL, lower-case, default ports left out."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
