"""A stand-in for ComfyUI's main.py, committed into a local git repo by the tests.

Serves `GET /system_stats`, a streamed `GET /stream`, `POST /upload` (Content-Length or chunked),
`GET /headers` (echoes the request headers) and a raw-echo websocket at `/ws`. Like ComfyUI, it
imports every package in custom_nodes/ and prints `(IMPORT FAILED)` for those that raise.
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/system_stats":
            self._json({"system": {"comfyui_version": "fake", "argv": sys.argv}, "devices": []})
        elif path == "/prompt":  # an idle ComfyUI (the agent's idle switch reads it)
            self._json({"exec_info": {"queue_remaining": 0}})
        elif path == "/history":
            self._json({})
        elif path == "/headers":
            self._json({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
        elif path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(5):
                data = f"part{i}\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                time.sleep(0.2)
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/ws":
            key = self.headers["Sec-WebSocket-Key"]
            accept = base64.b64encode(
                hashlib.sha1((key + WS_GUID).encode(), usedforsecurity=False).digest()
            ).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            while data := self.connection.recv(65536):
                self.connection.sendall(data)
            self.close_connection = True
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self) -> None:
        digest, size = hashlib.sha256(), 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while (n := int(self.rfile.readline().strip(), 16)) > 0:
                chunk = self.rfile.read(n)
                digest.update(chunk)
                size += len(chunk)
                self.rfile.readline()
            self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                digest.update(chunk)
                size += len(chunk)
                left -= len(chunk)
        self._json({"size": size, "sha256": digest.hexdigest()})

    def _json(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def load_custom_nodes(root: Path) -> None:
    """Import each custom node package like ComfyUI does, reporting failures the same way."""
    nodes = root / "custom_nodes"
    if not nodes.is_dir():
        return
    lines = []
    for node in sorted(p for p in nodes.iterdir() if p.is_dir() and not p.name.startswith(".")):
        init = node / "__init__.py"
        if not init.is_file():
            continue
        try:
            spec = importlib.util.spec_from_file_location(node.name, init)
            if spec is None or spec.loader is None:
                raise ImportError(f"no module in {node}")
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            lines.append(f"   0.0 seconds: {node}")
        except Exception as exc:  # noqa: BLE001 - ComfyUI reports any failure the same way
            print(f"Cannot import {node} module for custom nodes: {exc}", flush=True)
            lines.append(f"   0.0 seconds (IMPORT FAILED): {node}")
    print("\nImport times for custom nodes:", *lines, sep="\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--crash-now", action="store_true", help="exit at once with code 5")
    args, _ = parser.parse_known_args()
    if args.crash_now:
        print("Traceback (most recent call last): simulated crash", flush=True)
        sys.exit(5)
    load_custom_nodes(Path(__file__).resolve().parent)
    server = ThreadingHTTPServer((args.listen, args.port), Handler)
    server.daemon_threads = True
    print(f"To see the GUI go to: http://{args.listen}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
