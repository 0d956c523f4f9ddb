"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

Writes go through `Database.write()`: one transaction in which a use case changes state and
appends its events. On PostgreSQL the channel row lock orders concurrent writers. SQLite
allows one writer at a time; we start write transactions with `BEGIN IMMEDIATE` (so two
writers never deadlock upgrading read locks) and queue writers of this process on an
asyncio lock rather than letting them spin on SQLITE_BUSY. WAL mode lets readers proceed
while a write is under way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from imagechat.domain.errors import Conflict, Unavailable

# How long an SQLite writer of another process may hold the lock before we give up.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.reader = _sqlite_engine(url, echo=echo, immediate=False)
            self.writer = _sqlite_engine(url, echo=echo, immediate=True)
        else:
            engine = create_async_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self.reader = engine
            self.writer = engine
        self._write_lock = asyncio.Lock() if self.sqlite else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block exits cleanly, else rolled back."""
        if self._write_lock is not None:
            async with self._write_lock, _unavailable_on_failure(), self.writer.begin() as conn:
                yield conn
        else:
            async with _unavailable_on_failure(), self.writer.begin() as conn:
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

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves; pysqlite's implicit transactions are off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
