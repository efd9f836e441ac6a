"""Token proxy in front of the stand-in ComfyUI: auth, cookies, streams, uploads, websockets."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfyhangar.agent.proxy import TokenProxy, valid_token
from tests.agent.netutil import free_port, running_proxy, wait_for_port

TOKEN = "pod-token-0123456789abcdef"
FAKE_MAIN = Path(__file__).with_name("fake_comfyui_main.py")


@pytest.fixture(scope="module")
def comfy_port() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_MAIN), "--listen", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def proxy(comfy_port: int) -> Iterator[int]:
    with running_proxy(TOKEN, comfy_port) as port:
        yield port


class _Resp:
    def __init__(self, resp: http.client.HTTPResponse) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self.body = resp.read()

    def getheader(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def read(self) -> bytes:
        return self.body


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> _Resp:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        return _Resp(conn.getresponse())
    finally:
        conn.close()


class TestTokenProxy:
    def test_no_token_is_401(self, proxy: int) -> None:
        resp = _get(proxy, "/system_stats")
        assert resp.status == 401
        assert resp.getheader("WWW-Authenticate", "").startswith("Bearer")

    def test_wrong_token_is_401(self, proxy: int) -> None:
        assert _get(proxy, "/system_stats", {"X-Hangar-Token": TOKEN + "x"}).status == 401
        assert _get(proxy, "/system_stats?token=nope").status == 401
        assert _get(proxy, "/", {"Cookie": "hangar_token=nope"}).status == 401

    @pytest.mark.parametrize(
        "headers", [{"Authorization": f"Bearer {TOKEN}"}, {"X-Hangar-Token": TOKEN}]
    )
    def test_header_token_and_stripping(self, proxy: int, headers: dict[str, str]) -> None:
        resp = _get(proxy, "/headers?x=1", headers | {"Cookie": "a=b; hangar_token=zz"})
        assert resp.status == 200
        seen = json.loads(resp.read())
        assert TOKEN not in json.dumps(seen)
        assert seen["cookie"] == "a=b"
        assert seen["path"] == "/headers?x=1"

    def test_query_token_sets_cookie_then_cookie_works(self, proxy: int) -> None:
        resp = _get(proxy, f"/headers?a=1&token={TOKEN}&b=2")
        assert resp.status == 302
        assert resp.getheader("Location") == "/headers?a=1&b=2"
        cookie = resp.getheader("Set-Cookie", "")
        assert "HttpOnly" in cookie
        assert cookie.startswith(f"hangar_token={TOKEN};")
        again = _get(proxy, "/headers?a=1&b=2", {"Cookie": cookie.split(";")[0]})
        assert again.status == 200
        assert "hangar_token" not in again.read().decode()

    def test_query_token_redirect_stays_on_this_host(self, proxy: int) -> None:
        resp = _get(proxy, f"//evil.example/x?token={TOKEN}")
        assert resp.status == 302
        assert resp.getheader("Location") == "/evil.example/x"
        seen = json.loads(_get(proxy, "/headers?a=%2F&b=c%20d", {"X-Hangar-Token": TOKEN}).body)
        assert seen["path"] == "/headers?a=%2F&b=c%20d"  # forwarded untouched

    def test_streamed_long_response(self, proxy: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
        conn.request("GET", "/stream", headers={"X-Hangar-Token": TOKEN})
        resp = conn.getresponse()
        started = time.monotonic()
        first = resp.readline()
        assert first == b"part0\n"
        assert time.monotonic() - started < 0.5  # streamed, not buffered
        assert resp.read() == b"".join(f"part{i}\n".encode() for i in range(1, 5))
        conn.close()

    @pytest.mark.parametrize("chunked", [False, True])
    def test_large_upload(self, proxy: int, chunked: bool) -> None:
        body = os.urandom(24 << 20)
        conn = http.client.HTTPConnection("127.0.0.1", proxy, timeout=30)
        headers = {"X-Hangar-Token": TOKEN}
        if chunked:
            pieces = (body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20))
            conn.request("POST", "/upload", body=pieces, headers=headers, encode_chunked=True)
        else:
            conn.request("POST", "/upload", body=body, headers=headers)
        result = json.loads(conn.getresponse().read())
        conn.close()
        assert result == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}

    def test_websocket_passthrough(self, proxy: int) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        sock = socket.create_connection(("127.0.0.1", proxy), timeout=10)
        sock.sendall(
            (
                "GET /ws?clientId=abc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nCookie: hangar_token={TOKEN}\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        expected = base64.b64encode(
            hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode(), usedforsecurity=False
            ).digest()
        )
        assert expected in head
        for message in (b"\x81\x85abcd" + os.urandom(5), os.urandom(200_000)):
            sock.sendall(message)
            echoed = b""
            while len(echoed) < len(message):
                echoed += sock.recv(65536)
            assert echoed == message
        sock.close()

    def test_upstream_down_is_502(self) -> None:
        with running_proxy(TOKEN, free_port()) as port:
            assert _get(port, "/", {"X-Hangar-Token": TOKEN}).status == 502

    def test_garbage_request_line(self, proxy: int) -> None:
        with socket.create_connection(("127.0.0.1", proxy), timeout=5) as sock:
            sock.sendall(b"NONSENSE\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400")

    def test_bare_line_feeds_in_the_head_are_refused(self, proxy: int) -> None:
        head = f"GET /headers HTTP/1.1\r\nX-Hangar-Token: {TOKEN}\r\nX-A: 1\nX-B: 2\r\n\r\n"
        with socket.create_connection(("127.0.0.1", proxy), timeout=5) as sock:
            sock.sendall(head.encode())
            assert sock.recv(100) == b""  # dropped, nothing forwarded

    def test_token_rules(self) -> None:
        assert valid_token(TOKEN)
        for bad in ("short", "x" * 15, "a" * 20 + ";", "a" * 20 + " b", "$(touch /tmp/x)aaaaaaaaa"):
            assert not valid_token(bad)
            with pytest.raises(ValueError, match="token"):
                TokenProxy(bad, 1)
