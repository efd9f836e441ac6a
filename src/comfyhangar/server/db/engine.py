"""Engines and sessions: SQLite with WAL and a busy timeout, or PostgreSQL through asyncpg.

Under load, writers queue rather than fail. SQLite has one writer at a time: a process that
let its write transactions race for the file's lock saw "database is locked" once one waited
out the busy timeout, while each waiting writer held a pooled connection, so readers then
found the pool empty. Here each SQLite engine has a `WriteGate`: a write transaction
(`session.begin()`) first queues, in order and without a connection, for the gate, then runs
alone in this process; readers (WAL) never wait for it. PostgreSQL needs no gate (row locks);
its pool is sized by the settings, and a request that waits for a connection longer than
the pool timeout gets a 503 with Retry-After (`database_busy`), as does one that queued for
the gate longer than its bound (`bounded_write_wait`, set for HTTP requests); background work
queues without a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin

from comfyhangar.core.errors import DatabaseBusy

SQLITE_BUSY_TIMEOUT_MS = 10_000
# SQLSTATEs after which the same request can simply be sent again: too many connections,
# the server starting up or shutting down, a deadlock or a serialization failure.
RETRYABLE_SQLSTATES = frozenset({"53300", "57P03", "40P01", "40001"})
_WRITE_GATE = "hangar.write_gate"  # session.info: the gate of the session's engine
# How long a write transaction may queue for the gate in this context; None: as long as it
# takes (background work). HTTP requests set a bound, so that they can answer 503 instead.
_write_wait_limit: ContextVar[float | None] = ContextVar("hangar_write_wait", default=None)


@contextlib.contextmanager
def bounded_write_wait(seconds: float | None) -> Iterator[None]:
    """Within the block, a write transaction queues at most `seconds`, then `DatabaseBusy`."""
    token = _write_wait_limit.set(seconds)
    try:
        yield
    finally:
        _write_wait_limit.reset(token)


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


class WriteGate:
    """One write transaction at a time in this process, the others queued in order.

    Held from the start of `session.begin()` to its commit or rollback. A writer waits as long
    as `bounded_write_wait` allows (unbounded by default). A task that opens a write
    transaction while it holds one would wait for itself: that is a bug, and raises.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("a write transaction inside another one of the same task")
        limit = _write_wait_limit.get()
        try:
            async with asyncio.timeout(limit):
                await self._lock.acquire()
        except TimeoutError:
            raise DatabaseBusy(
                f"the database is busy: this change waited {limit:g} s for its turn and was "
                "not made; send it again"
            ) from None
        self._owner = task

    def release(self) -> None:
        self._owner = None
        self._lock.release()


_gates: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> WriteGate | None:
    """The write gate of a SQLite engine (None for PostgreSQL, which needs none)."""
    if engine.dialect.name != "sqlite":
        return None
    gate = _gates.get(engine.sync_engine)
    if gate is None:
        gate = _gates[engine.sync_engine] = WriteGate()
    return gate


def is_retryable(exc: BaseException) -> bool:
    """Whether a database error means "busy, send it again" rather than a bug: no pooled
    connection came free in time, SQLite's lock stayed taken (another process writing), or
    PostgreSQL refused for load or aborted a deadlock."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if state in RETRYABLE_SQLSTATES:
            return True
        text = str(orig).lower()
        return "database is locked" in text or "database table is locked" in text
    return False


class _GatedTransaction(AsyncSessionTransaction):
    """`session.begin()` that queues for the engine's write gate first (SQLite)."""

    def __init__(self, session: AsyncSession, gate: WriteGate) -> None:
        super().__init__(session)
        self._gate = gate

    async def __aenter__(self) -> AsyncSessionTransaction:
        await self._gate.acquire()
        try:
            return await super().__aenter__()
        except BaseException:
            self._gate.release()
            raise

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        try:
            await super().__aexit__(type_, value, traceback)
        finally:
            self._gate.release()


class HangarAsyncSession(AsyncSession):
    """An AsyncSession whose write transactions pass the engine's write gate, if it has one."""

    def begin(self) -> AsyncSessionTransaction:
        gate = self.sync_session.info.get(_WRITE_GATE)
        return _GatedTransaction(self, gate) if gate is not None else super().begin()


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
    SQLite it starts deferred, and a deferred transaction that reads, then writes, can fail),
    and only `begin()` queues for SQLite's write gate.
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

    gate = write_gate(engine)
    return async_sessionmaker(
        engine,
        class_=HangarAsyncSession,
        expire_on_commit=False,
        sync_session_class=session_class,
        info={_WRITE_GATE: gate} if gate is not None else {},
    )
