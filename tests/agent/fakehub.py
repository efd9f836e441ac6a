"""Local stand-ins for Hugging Face, Civitai and their CDN, with Range support and faults.

One `FakeHub` runs two threaded HTTP servers on 127.0.0.1: the *hub* (Hugging Face
`/{repo}/resolve/{revision}/{file}` and Civitai `/api/download/models/{id}`), which checks tokens
on gated files and answers with a 302 to the *cdn* (another port, so another host for the
agent's token scoping), which serves the bytes with Range support, per-connection throttling and
injected faults.
"""

from __future__ import annotations

import hashlib
import re
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

FAULTS = ("ok", "reset", "500", "truncate", "corrupt", "429")


@dataclass
class HostedFile:
    """A file the hub serves; `faults` are consumed one per CDN request."""

    data: bytes
    gated: bool = False
    faults: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class FakeHub:
    """Hub + CDN servers; inspect `served`, `cdn_auth` and `hub_auth` after a run."""

    def __init__(self) -> None:
        self.token = "hf_secret_token_123"
        self.civitai_token = "civ_secret_456"
        self.files: dict[str, HostedFile] = {}
        self.civitai: dict[int, str] = {}
        self.served: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.throttle_bps = 0
        self.active = 0
        self.max_active = 0
        self.ranges = True
        self.lock = threading.Lock()
        self.hub = _server(self, "hub")
        self.cdn = _server(self, "cdn")

    def __enter__(self) -> FakeHub:
        for srv in (self.hub, self.cdn):
            threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for srv in (self.hub, self.cdn):
            srv.shutdown()
            srv.server_close()

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self.cdn.server_address[1]}"

    def add_hf(self, repo: str, name: str, data: bytes, **kw: Any) -> HostedFile:
        """Host `data` as Hugging Face file `repo`/`name` (revision ignored)."""
        self.files[f"{repo}/{name}"] = hosted = HostedFile(data, **kw)
        return hosted

    def add_civitai(self, version_id: int, data: bytes, **kw: Any) -> HostedFile:
        """Host `data` as Civitai model version `version_id`."""
        key = f"civitai/{version_id}"
        self.civitai[version_id] = key
        self.files[key] = hosted = HostedFile(data, **kw)
        return hosted

    def header_values(self, role: str, header: str) -> list[str]:
        """Every value of `header` received by `role` ('hub' or 'cdn')."""
        with self.lock:
            return [
                h[header.lower()] for r, _, h in self.requests if r == role and header.lower() in h
            ]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets are part of the game


def _server(hub: FakeHub, role: str) -> ThreadingHTTPServer:
    handler = type(f"{role}Handler", (_Handler,), {"hub": hub, "role": role})
    srv = _QuietServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    return srv


class _Handler(BaseHTTPRequestHandler):
    hub: ClassVar[FakeHub]
    role: ClassVar[str]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with self.hub.lock:
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.hub.requests.append((self.role, self.path, headers))
        if self.role == "hub":
            self._hub()
        else:
            self._cdn()

    def _hub(self) -> None:
        hf = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", self.path)
        civ = re.match(r"^/api/download/models/(\d+)$", self.path)
        if hf:
            key, token = f"{hf.group(1)}/{hf.group(3)}", self.hub.token
        elif civ and int(civ.group(1)) in self.hub.civitai:
            key, token = self.hub.civitai[int(civ.group(1))], self.hub.civitai_token
        else:
            return self._send(404, b"not found")
        hosted = self.hub.files.get(key)
        if hosted is None:
            return self._send(404, b"no such file")
        auth = self.headers.get("Authorization")
        if hosted.gated and auth != f"Bearer {token}":
            return self._send(401 if auth is None else 403, b"gated")
        self.send_response(302)
        self.send_header("Location", f"{self.hub.cdn_url}/cdn/{key}?sig=abc")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cdn(self) -> None:
        key = self.path.split("?")[0].removeprefix("/cdn/")
        hosted = self.hub.files.get(key)
        if hosted is None:
            return self._send(404, b"no such file")
        with self.hub.lock:
            fault = hosted.faults.pop(0) if hosted.faults else None
        if fault in ("500", "429"):
            return self._send(int(fault), b"try later", (("Retry-After", "0"),))
        data = hosted.data
        start, end = 0, len(data) - 1
        rng = re.match(r"^bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        if rng and self.hub.ranges:
            start = int(rng.group(1))
            end = min(int(rng.group(2)), end) if rng.group(2) else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start : end + 1]
        if fault == "corrupt":
            body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "truncate":
            body = body[: len(body) // 2]
        elif fault == "reset":
            body = body[: len(body) // 3]
        with self.hub.lock:
            self.hub.active += 1
            self.hub.max_active = max(self.hub.max_active, self.hub.active)
        try:
            self._write(key, body)
        finally:
            with self.hub.lock:
                self.hub.active -= 1
        if fault == "reset":  # a real RST, not a clean close
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        if fault in ("truncate", "reset"):
            self.close_connection = True
            self.connection.close()

    def _write(self, key: str, body: bytes) -> None:
        step = 64 * 1024
        for i in range(0, len(body), step):
            piece = body[i : i + step]
            try:
                self.wfile.write(piece)
            except OSError:
                return
            with self.hub.lock:
                self.hub.served[key] += len(piece)
            if self.hub.throttle_bps:
                time.sleep(len(piece) / self.hub.throttle_bps)

    def _send(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
