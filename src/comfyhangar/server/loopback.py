"""Serve an ASGI app on a loopback port from inside a running event loop.

Used for the embedded RunPod emulator (and by the tests for every real-socket server). The
nested uvicorn leaves signal handling to whoever owns the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Literal

import uvicorn

_NESTED = contextvars.ContextVar("nested_uvicorn", default=False)


class _NestedChatter(logging.Filter):
    """Drops what a nested server says below WARNING ("Started server process", "Shutting
    down"): the host server's log speaks for the process. Its warnings and errors pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not _NESTED.get()


_CHATTER = _NestedChatter()


class _NestedServer(uvicorn.Server):
    """A uvicorn server that never installs signal handlers (the host process has its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_on_loopback(
    app: Any,
    *,
    port: int = 0,
    lifespan: Literal["auto", "on", "off"] = "auto",
) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (a free port when `port` is 0); yield its base URL.

    The nested server leaves the process's logging alone (no log config, no levels, no
    access log): uvicorn's own set-up would reset the levels of the host server's loggers,
    which silenced `comfyhangar serve` after the embedded emulator started. What the nested
    server says below WARNING is dropped.
    """
    async with _serve(app, [_bind(port)], lifespan) as (url,):
        yield url


@contextlib.asynccontextmanager
async def serve_apps_on_loopback(apps: Sequence[Any]) -> AsyncIterator[list[str]]:
    """Serve each app on a free loopback port of its own (one origin each) with one server
    (so they start and stop together); yield their base URLs, in order. No lifespan."""
    socks = [_bind(0) for _ in apps]
    by_port = {sock.getsockname()[1]: app for sock, app in zip(socks, apps, strict=True)}

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        await by_port[scope["server"][1]](scope, receive, send)

    async with _serve(dispatch, socks, "off") as urls:
        yield urls


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@contextlib.asynccontextmanager
async def _serve(
    app: Any, socks: list[socket.socket], lifespan: Literal["auto", "on", "off"]
) -> AsyncIterator[list[str]]:
    ports = [sock.getsockname()[1] for sock in socks]
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        timeout_graceful_shutdown=1,
        log_config=None,
        log_level=None,
        access_log=False,
    )
    server = _NestedServer(config)
    uvicorn_log = logging.getLogger("uvicorn.error")
    if _CHATTER not in uvicorn_log.filters:
        uvicorn_log.addFilter(_CHATTER)
    nested = contextvars.copy_context()
    nested.run(_NESTED.set, True)  # the server task and the connections it starts
    task = asyncio.create_task(
        server.serve(sockets=socks), name=f"loopback:{ports[0]}", context=nested
    )
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server exited before it started")
            await asyncio.sleep(0.01)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(5):
                await task
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sock in socks:
            sock.close()
