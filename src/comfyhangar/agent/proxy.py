"""Token proxy: the only way in to ComfyUI, which has no authentication of its own (step 5).

Listens on the exposed port and forwards to ComfyUI on 127.0.0.1. A request must carry the pod
token as `Authorization: Bearer <token>`, `X-Hangar-Token: <token>`, the `hangar_token` cookie,
or once as `?token=<token>`: a GET with the query token is answered with a redirect to the same
URL without it and an HttpOnly cookie, so a browser link works. Anything else gets 401.

Each client connection carries one request: the proxy reads and checks the request head, strips
the token, forwards the head with `Connection: close` (websocket upgrades keep theirs), then
copies bytes both ways until ComfyUI closes. Bodies are never parsed, so chunked and streamed
bodies, large uploads, long requests and websockets pass through intact. Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

COOKIE = "hangar_token"
HEAD_LIMIT = 64 * 1024
HEAD_TIMEOUT_S = 60.0
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{16,256}")  # applied with fullmatch
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer"}


def valid_token(token: str) -> bool:
    """True if `token` is usable: 16 to 256 URL- and cookie-safe characters."""
    return bool(TOKEN_PATTERN.fullmatch(token))


class TokenProxy:
    """Checks the token on each request and forwards it to `upstream_host:upstream_port`."""

    def __init__(
        self,
        token: str,
        upstream_port: int,
        upstream_host: str = "127.0.0.1",
        on_request: Callable[[list[tuple[str, str]]], None] | None = None,
    ) -> None:
        if not valid_token(token):
            raise ValueError("the pod token must be 16-256 characters of [A-Za-z0-9._~-]")
        self._token = token.encode()
        self.upstream = (upstream_host, upstream_port)
        # Told the headers of every request that passed the token check (the idle switch).
        self.on_request = on_request

    async def start(self, host: str, port: int) -> asyncio.Server:
        """Listen on `host:port`; returns the running server."""
        return await asyncio.start_server(self.handle, host, port, limit=HEAD_LIMIT)

    def accepts(self, candidate: str | None) -> bool:
        """Constant-time check of one presented token."""
        return candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8", "replace"), self._token
        )

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection (one request, or one websocket)."""
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.TimeoutError:  # noqa: UP041 - not an alias of TimeoutError on 3.10
            await _reply(writer, 408, "Request Timeout", "request head took too long")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except asyncio.LimitOverrunError:
            return await _reply(writer, 431, "Request Header Fields Too Large", "head too large")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or "\n" in lines[0]:
            return await _reply(writer, 400, "Bad Request", "bad request line")
        method, target, version = parts
        headers = [_split_header(line) for line in lines[1:] if line]
        upgrade = any(k.lower() == "upgrade" for k, _ in headers)
        path, _, raw_query = target.partition("?")
        query = parse_qsl(raw_query, keep_blank_values=True)
        query_token = next((v for k, v in query if k == "token"), None)
        if query_token is not None:
            rest_query = urlencode([(k, v) for k, v in query if k != "token"])
            clean_target = path + (f"?{rest_query}" if rest_query else "")
        else:
            clean_target = target  # forwarded byte for byte

        if self.accepts(query_token) and method in ("GET", "HEAD") and not upgrade:
            location = "/" + clean_target.lstrip("/")  # never `//host`: no open redirect
            cookie = f"{COOKIE}={self._token.decode()}; Path=/; HttpOnly; Secure; SameSite=Lax"
            return await _reply(
                writer, 302, "Found", "", [("Location", location), ("Set-Cookie", cookie)]
            )
        if not (self.accepts(query_token) or any(self.accepts(t) for t in _presented(headers))):
            return await _reply(
                writer, 401, "Unauthorized", "missing or wrong token",
                [("WWW-Authenticate", 'Bearer realm="comfyhangar"')],
            )  # fmt: skip
        if self.on_request is not None:
            self.on_request(headers)

        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            return await _reply(writer, 502, "Bad Gateway", "ComfyUI is not running (yet)")
        try:
            forwarded = [f"{method} {clean_target} {version}"]
            forwarded += [f"{k}: {v}" for k, v in self._forwarded_headers(headers, upgrade)]
            up_writer.write(("\r\n".join(forwarded) + "\r\n\r\n").encode("latin-1"))
            await _pipe_both(reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()
            with contextlib.suppress(OSError):
                await up_writer.wait_closed()

    def _forwarded_headers(
        self, headers: list[tuple[str, str]], upgrade: bool
    ) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, value in headers:
            low = name.lower()
            if low in _OURS or (low == "authorization" and self.accepts(_bearer(value))):
                continue
            if low == "cookie":
                kept = [c for c in value.split(";") if c.strip().split("=", 1)[0] != COOKIE]
                if kept:
                    out.append((name, ";".join(kept).strip()))
                continue
            if low in _HOP_BY_HOP and not upgrade:
                continue
            out.append((name, value))
        if not upgrade:
            out.append(("Connection", "close"))
        return out


# Headers for the agent, never forwarded to ComfyUI: the token, the server's idle limit.
_OURS = frozenset({"x-hangar-token", "x-hangar-idle-limit-s"})


def _presented(headers: list[tuple[str, str]]) -> list[str]:
    found: list[str] = []
    for name, value in headers:
        low = name.lower()
        if low == "authorization" and (bearer := _bearer(value)) is not None:
            found.append(bearer)
        elif low == "x-hangar-token":
            found.append(value.strip())
        elif low == "cookie":
            for item in value.split(";"):
                key, _, val = item.strip().partition("=")
                if key == COOKIE:
                    found.append(val)
    return found


def _bearer(value: str) -> str | None:
    scheme, _, cred = value.strip().partition(" ")
    return cred.strip() if scheme.lower() == "bearer" else None


def _split_header(line: str) -> tuple[str, str]:
    name, sep, value = line.partition(":")
    if not sep or not name or name != name.strip() or "\n" in line or "\r" in line:
        raise ValueError("bad header line")
    return name, value.strip()


async def _pipe_both(
    c_reader: asyncio.StreamReader,
    c_writer: asyncio.StreamWriter,
    u_reader: asyncio.StreamReader,
    u_writer: asyncio.StreamWriter,
) -> None:
    """Copy client->upstream and upstream->client; done when upstream has finished."""
    upload = asyncio.ensure_future(_pipe(c_reader, u_writer, half_close=True))
    try:
        await _pipe(u_reader, c_writer, half_close=False)
    finally:
        upload.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await upload


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, half_close: bool) -> None:
    try:
        while chunk := await src.read(256 * 1024):
            dst.write(chunk)
            await dst.drain()
        if half_close and dst.can_write_eof():
            dst.write_eof()
    except (OSError, RuntimeError):
        return


async def _reply(
    writer: asyncio.StreamWriter,
    status: int,
    reason: str,
    body: str,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    data = (body + "\n").encode() if body else b""
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: text/plain; charset=utf-8"]
    head += [f"{k}: {v}" for k, v in extra or []]
    head += [f"Content-Length: {len(data)}", "Cache-Control: no-store", "Connection: close"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
    with contextlib.suppress(OSError):
        await writer.drain()
