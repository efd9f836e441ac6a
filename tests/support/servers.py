"""Real servers for tests: an ASGI app on uvicorn on a free loopback port, in the test's loop.

`httpx.ASGITransport` buffers whole responses (no SSE) and cannot drop a connection, so every
test that talks HTTP to one of our servers or emulators does it over a real socket.
"""

from __future__ import annotations

import socket

from comfyhangar.server.loopback import serve_on_loopback as running_server


def free_port() -> int:
    """A port that was free a moment ago (for subprocesses that bind it themselves)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


__all__ = ["free_port", "running_server"]
