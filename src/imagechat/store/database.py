"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

Writes go through `Database.write()`: one transaction in which a use case changes state and
appends its events. On PostgreSQL the channel row lock orders concurrent writers. SQLite
allows one writer at a time; we start write transactions with `BEGIN IMMEDIATE` (so two
writers never deadlock upgrading read locks) and queue writers of this process on an
asyncio lock rather than letting them spin on SQLITE_BUSY. WAL mode lets readers proceed
while a write is under way.

SQLite writes run on the event loop's own thread, on a blocking connection. A write
transaction is a dozen statements of tens of microseconds each on a local file; sending
each through a worker thread (aiosqlite) costs more than the statement itself, and the
loop thread waits for the result either way. Measured on one POST that creates a conversation
with its first message: 7.4 ms of CPU through the worker thread, 2.9 ms on the loop.
Waiting for the lock never blocks the loop: the transaction starts with a non-waiting
`BEGIN IMMEDIATE`, retried after short asynchronous sleeps. Reads and bulk maintenance
(`write_in_thread`, e.g. trimming history) stay on the worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any, Protocol

from sqlalchemy import Connection as BlockingSQLAlchemyConnection
from sqlalchemy import CursorResult, Engine, Executable, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from imagechat.domain.errors import Conflict, Unavailable

# How long an SQLite writer of another process may hold the lock before we give up.
SQLITE_BUSY_TIMEOUT_MS = 10_000


# Between two tries of `BEGIN IMMEDIATE` while another connection holds the write lock.
SQLITE_LOCK_RETRY_MIN_SECS = 0.001
SQLITE_LOCK_RETRY_MAX_SECS = 0.05


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Connection(Protocol):
    """What the repositories need of a connection: an AsyncConnection, or the blocking
    SQLite write connection behind the same interface."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        ...


class BlockingConnection:
    """A blocking SQLAlchemy connection with AsyncConnection's `execute` (see module doc)."""

    def __init__(self, conn: BlockingSQLAlchemyConnection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self._conn.execute(statement, parameters)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.reader = _sqlite_engine(url, echo=echo, immediate=False)
            self.writer = _sqlite_engine(url, echo=echo, immediate=True)
            self.blocking_writer: Engine | None = _blocking_sqlite_engine(url, echo=echo)
        else:
            engine = create_async_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self.reader = engine
            self.writer = engine
            self.blocking_writer = None
        self._write_lock = asyncio.Lock() if self.sqlite else None
        # SQLite's one writer connection, kept open between writes (only one write runs at a
        # time, under the lock): checking a connection out of a pool and back in, with the
        # pool's reset, cost as much as two of the write's statements.
        self._held: BlockingSQLAlchemyConnection | None = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        """A write transaction: committed when the block exits cleanly, else rolled back."""
        if self.blocking_writer is None:  # PostgreSQL: the pool's connections
            async with self.write_in_thread() as conn:
                yield conn
            return
        assert self._write_lock is not None
        async with self._write_lock, _unavailable_on_failure():
            blocking = await self._begin_immediate(self.blocking_writer)
            try:
                yield BlockingConnection(blocking)
                blocking.commit()
            except BaseException:
                self._roll_back()
                raise

    async def _begin_immediate(self, engine: Engine) -> BlockingSQLAlchemyConnection:
        """Take SQLite's write lock without ever blocking the loop while someone else holds
        it (`BEGIN IMMEDIATE` without a busy timeout, retried after short sleeps)."""
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = SQLITE_LOCK_RETRY_MIN_SECS
        while True:
            if self._held is None or self._held.closed or self._held.invalidated:
                self._held = engine.connect()
            self._held.begin()
            try:
                # Straight to the driver: through SQLAlchemy's execution path this one
                # statement cost as much as a third of the whole commit.
                self._held.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "BEGIN IMMEDIATE")
                return self._held
            except sqlite3.OperationalError as exc:
                self._roll_back()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, SQLITE_LOCK_RETRY_MAX_SECS)

    def _roll_back(self) -> None:
        """Roll the held connection's transaction back; one that cannot is let go."""
        held, self._held = self._held, None
        if held is None:
            return
        try:
            held.rollback()
            if not held.invalidated:
                self._held = held
                return
        except DBAPIError:
            pass
        held.close()

    @asynccontextmanager
    async def write_in_thread(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction through the async engine: on SQLite, long maintenance work
        off the event loop's thread; on PostgreSQL, every write."""
        async with (self._write_lock or nullcontext()), _unavailable_on_failure(), \
                self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (one consistent snapshot on PostgreSQL)."""
        async with _unavailable_on_failure(), self.reader.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()
        if self._held is not None:
            self._held.close()
            self._held = None
        if self.blocking_writer is not None:
            self.blocking_writer.dispose()


@asynccontextmanager
async def _unavailable_on_failure() -> AsyncIterator[None]:
    """A database that cannot be reached is a 503 for the client, not a crash."""
    try:
        yield
    except IntegrityError as exc:
        # Two writers raced (the same vote twice, a reply to a comment being deleted):
        # the loser's whole transaction is rolled back; it may simply try again.
        raise Conflict("This change conflicts with another one made at the same moment; "
                       "try again.", "write-conflict") from exc
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated and not isinstance(
            exc, OperationalError
        ):
            raise
        raise Unavailable("The database is not available; try again shortly.",
                          "database-unavailable") from exc
    except (OSError, ConnectionError) as exc:
        raise Unavailable("The database is not available; try again shortly.",
                          "database-unavailable") from exc


def _sqlite_engine(url: str, *, echo: bool, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
    _configure_sqlite(engine.sync_engine, immediate=immediate,
                      busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
    return engine


def _blocking_sqlite_engine(url: str, *, echo: bool) -> Engine:
    # The same file through the standard library's driver. No busy timeout: a locked
    # database must fail at once (and be retried asynchronously), never block the loop.
    engine = create_engine(url.replace("+aiosqlite", "", 1), echo=echo,
                           connect_args={"check_same_thread": False})
    _configure_sqlite(engine, immediate=None, busy_timeout_ms=0)
    return engine


def _configure_sqlite(engine: Engine, *, immediate: bool | None, busy_timeout_ms: int) -> None:
    """`immediate`: how a transaction begins (None: the caller issues BEGIN itself)."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves; pysqlite's implicit transactions are off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if immediate is None:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
