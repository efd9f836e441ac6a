"""A loopback TCP proxy that can cut every open connection: a real dropped connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit


class CuttableProxy:
    """Forwards bytes to `upstream`; `cut_all()` resets every live connection at once."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.writers.update({writer, up_writer})
        tasks = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        self.writers.difference_update({writer, up_writer})

    def cut_all(self) -> None:
        """Abort every open connection (both sides), as a network failure would."""
        for writer in list(self.writers):
            transport = writer.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()
            else:
                writer.close()
        self.writers.clear()


@contextlib.asynccontextmanager
async def cuttable_proxy(base_url: str) -> AsyncIterator[tuple[CuttableProxy, str]]:
    """A proxy in front of `base_url`; yields (proxy, the base URL to use through it)."""
    parts = urlsplit(base_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 80)
    server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield proxy, urlunsplit((parts.scheme, f"127.0.0.1:{port}", parts.path, "", ""))
    finally:
        proxy.cut_all()
        server.close()
        for task in proxy._tasks:
            task.cancel()
        await asyncio.gather(*proxy._tasks, return_exceptions=True)
        await server.wait_closed()
