"""Engines and sessions: SQLite with WAL and a busy timeout, or PostgreSQL through asyncpg."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Set in `session.info` when a transaction appends events, so its commit can wake live streams.
EVENTS_APPENDED = "hangar.events_appended"
# Connection option: start this SQLite transaction with a plain (deferred) BEGIN. Sessions set
# it for the transactions they autobegin, i.e. reads (every write here runs under an explicit
# `session.begin()`); so readers never queue for the write lock behind other readers.
DEFERRED_BEGIN = "hangar_deferred_begin"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases and other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def quiet_driver_logs() -> None:
    """aiosqlite logs every statement with its parameters at DEBUG (secrets among them): keep
    its logger above DEBUG whatever the root level is."""
    driver = logging.getLogger("aiosqlite")
    if driver.getEffectiveLevel() < logging.INFO or driver.level < logging.INFO:
        driver.setLevel(logging.INFO)


def make_engine(url: str, *, sqlite_begin: str = "BEGIN IMMEDIATE", **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL, a busy timeout and foreign keys on.

    SQLite transactions start with `sqlite_begin`. The default, `BEGIN IMMEDIATE`, takes the
    write lock up front: a deferred transaction that reads and then writes can fail at once
    with SQLITE_BUSY when another writer got in between, and the busy timeout does not help.
    A read-only engine (live streams) may pass plain `BEGIN`. Transactions that a session
    autobegins (reads) start with a plain `BEGIN` anyway (see `DEFERRED_BEGIN`): with
    IMMEDIATE, 50 concurrent list requests queued for the write lock until some waited out
    the busy timeout and failed with "database is locked".
    """
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Bound parameters carry secrets (deployment_secrets): never in SQL logs or error texts.
    kwargs.setdefault("hide_parameters", True)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        quiet_driver_logs()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # Let SQLAlchemy's "begin" event below decide how transactions start.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            deferred = connection.get_execution_options().get(DEFERRED_BEGIN, False)
            connection.exec_driver_sql("BEGIN" if deferred else sqlite_begin)

    return engine


def make_sessionmaker(
    engine: AsyncEngine, *, on_events_committed: Callable[[], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; `on_events_committed` runs after each commit that appended events.

    Write only inside `session.begin()`: a transaction the session autobegins is a read (on
    SQLite it starts deferred, and a deferred transaction that reads, then writes, can fail).
    """
    session_class: type[Session] = type("HangarSession", (Session,), {})

    @event.listens_for(session_class, "after_transaction_create")
    def _begin_mode(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            autobegun = transaction.origin is SessionTransactionOrigin.AUTOBEGIN
            session.execution_options = session.execution_options.union({DEFERRED_BEGIN: autobegun})

    if on_events_committed is not None:
        callback = on_events_committed

        @event.listens_for(session_class, "after_commit")
        def _after_commit(session: Session) -> None:
            if session.info.pop(EVENTS_APPENDED, False):
                callback()

        @event.listens_for(session_class, "after_rollback")
        def _after_rollback(session: Session) -> None:
            session.info.pop(EVENTS_APPENDED, None)

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)
