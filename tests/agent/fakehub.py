"""Local stand-ins for Hugging Face, Civitai and their CDN, with Range support and faults.

One `FakeHub` runs two threaded HTTP servers on 127.0.0.1: the *hub* (Hugging Face
`/{repo}/resolve/{revision}/{file}`, Civitai `/api/download/models/{id}` and
`/api/v1/model-versions/{id}`), which checks tokens on gated files and answers with a 302 to the
*cdn* (another port, so another host for the agent's token scoping), which serves the bytes with
Range support, per-connection throttling and injected faults.

What the hub publishes is what the real sites publish: Hugging Face's 302 for an LFS file carries
`X-Linked-Size`, `X-Linked-Etag` and `ETag` (the quoted sha256) and `X-Repo-Commit`; a file kept
in git (`lfs=False`) is served by the hub itself with its git blob sha1 as `ETag`. Civitai's
model-version document lists the version's files with `sizeKB` (rounded to two decimals),
`hashes.SHA256` (upper case) and `primary`.

Faults, for the CDN (or the hub serving a git file):
- `HostedFile.faults`: one per request, in order (the agent's probe is a request too): `ok`,
  `500`, `429`, `reset` / `truncate` (a third / half of the body, then a RST / a clean close),
  `corrupt` (the first 16 bytes flipped), `ranges-off` / `ranges-on` (this answer ignores / honours
  `Range` whatever `FakeHub.ranges` says); combine with `+` (`ranges-off+corrupt`).
- `HostedFile.drops`: file offsets at which the connection closes, each once, in whichever
  answer reaches it first: the client gets every byte before the offset, then the end of the
  connection (a RST would throw away what its socket buffers still hold).
- `HostedFile.cdn_data`: what the CDN serves instead of `data` (a stale or damaged copy), while the
  hub goes on publishing `data`'s size and hash.
- `FakeHub.framing`: `length` (Content-Length), `chunked`, or `close` (no length: the body ends
  when the connection closes).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

FAULTS = ("ok", "reset", "500", "truncate", "corrupt", "429", "ranges-off", "ranges-on")
FRAMINGS = ("length", "chunked", "close")
REPO_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HostedFile:
    """A file the hub serves; `faults` are consumed one per request, `drops` one per offset."""

    data: bytes
    gated: bool = False
    faults: list[str] = field(default_factory=list)
    drops: list[int] = field(default_factory=list)
    cdn_data: bytes | None = None
    lfs: bool = True

    def __post_init__(self) -> None:
        for fault in self.faults:
            unknown = set(fault.split("+")) - set(FAULTS)
            if unknown:
                raise ValueError(f"unknown fault {sorted(unknown)[0]!r}")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_sha1(self) -> str:
        """The git blob id, which is what Hugging Face's ETag is for a file kept in git."""
        head = b"blob %d\0" % len(self.data)
        return hashlib.sha1(head + self.data, usedforsecurity=False).hexdigest()


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
        self.framing = "length"
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
        version = re.match(r"^/api/v1/model-versions/(\d+)$", self.path)
        if version:
            return self._civitai_version(int(version.group(1)))
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
        if hf and not hosted.lfs:  # a file kept in git: the hub serves it itself
            return self._serve(key, hosted, (("ETag", f'"{hosted.git_sha1}"'),
                                             ("X-Repo-Commit", REPO_COMMIT)))  # fmt: skip
        self.send_response(302)
        self.send_header("Location", f"{self.hub.cdn_url}/cdn/{key}?sig=abc")
        if hf:
            self.send_header("X-Repo-Commit", REPO_COMMIT)
            self.send_header("X-Linked-Size", str(len(hosted.data)))
            self.send_header("X-Linked-Etag", f'"{hosted.sha256}"')
            self.send_header("ETag", f'"{hosted.sha256}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _civitai_version(self, version_id: int) -> None:
        """`GET /api/v1/model-versions/{id}` as Civitai documents it (the fields the agent reads,
        and a non-primary file listed first, as versions with training data have)."""
        key = self.hub.civitai.get(version_id)
        if key is None:
            return self._send(404, b'{"error":"No model version with id"}')
        hosted = self.hub.files[key]
        download = f"{self.hub.hub_url}/api/download/models/{version_id}"
        extra = b"training data"
        files = [
            {"id": version_id * 10 + 1, "name": "training.zip", "type": "Training Data",
             "sizeKB": round(len(extra) / 1024, 2), "primary": False,
             "hashes": {"SHA256": hashlib.sha256(extra).hexdigest().upper()},
             "downloadUrl": f"{download}?type=Training%20Data"},
            {"id": version_id * 10, "name": "model.safetensors", "type": "Model",
             "sizeKB": round(len(hosted.data) / 1024, 2), "primary": True,
             "metadata": {"format": "SafeTensor", "size": "pruned", "fp": "fp16"},
             "hashes": {"AutoV2": hosted.sha256[:10].upper(), "SHA256": hosted.sha256.upper(),
                        "CRC32": "DAEE95B7"},
             "downloadUrl": download},
        ]  # fmt: skip
        body = {"id": version_id, "modelId": version_id + 1000, "name": "v1.0",
                "files": files, "downloadUrl": download}  # fmt: skip
        self._send(200, json.dumps(body).encode(), (("Content-Type", "application/json"),))

    def _cdn(self) -> None:
        key = self.path.split("?")[0].removeprefix("/cdn/")
        hosted = self.hub.files.get(key)
        if hosted is None:
            return self._send(404, b"no such file")
        self._serve(key, hosted)

    def _serve(
        self, key: str, hosted: HostedFile, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        with self.hub.lock:
            fault = set(hosted.faults.pop(0).split("+")) if hosted.faults else set()
        for status in ("500", "429"):
            if status in fault:
                return self._send(int(status), b"try later", (("Retry-After", "0"),))
        data = hosted.data if hosted.cdn_data is None else hosted.cdn_data
        start, end = 0, len(data) - 1
        rng = re.match(r"^bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        ranges = ("ranges-on" in fault or self.hub.ranges) and "ranges-off" not in fault
        if rng and ranges:
            start = int(rng.group(1))
            end = min(int(rng.group(2)), end) if rng.group(2) else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes" if ranges else "none")
        body = data[start : end + 1]
        if "corrupt" in fault:
            body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
        if self.hub.framing == "length":
            self.send_header("Content-Length", str(len(body)))
        elif self.hub.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        cut = len(body)
        if "truncate" in fault:
            cut = len(body) // 2
        elif "reset" in fault:
            cut = len(body) // 3
        with self.hub.lock:
            dropped = [d for d in hosted.drops if start <= d < start + len(body)]
            if dropped and min(dropped) - start < cut:
                cut = min(dropped) - start
                hosted.drops.remove(min(dropped))
                fault.add("truncate")
            self.hub.active += 1
            self.hub.max_active = max(self.hub.max_active, self.hub.active)
        try:
            self._write(key, body[:cut])
            if self.hub.framing == "chunked" and cut == len(body):
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        finally:
            with self.hub.lock:
                self.hub.active -= 1
        if "reset" in fault:  # a real RST, not a clean close
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        if fault & {"truncate", "reset"} or self.hub.framing == "close":
            self.close_connection = True
            self.connection.close()

    def _write(self, key: str, body: bytes) -> None:
        step = 64 * 1024
        chunked = self.hub.framing == "chunked"
        for i in range(0, len(body), step):
            piece = body[i : i + step]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
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
