"""SQLite's writer connection, kept open between writes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from imagechat.store.database import Database


async def test_writes_share_one_connection_and_a_failed_one_leaves_nothing(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        first = db._held
        with pytest.raises(RuntimeError):
            async with db.write() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
                raise RuntimeError("the use case failed")
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t VALUES (3)"))
            assert db._held is first  # the same connection, its transaction rolled back
        async with db.read() as reading:
            assert (await reading.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() \
                == [1, 3]
    finally:
        await db.dispose()
    assert db._held is None


async def test_a_write_waits_without_blocking_for_another_process_to_let_go(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        other.execute("INSERT INTO t VALUES (1)")

        async def write() -> None:
            async with db.write() as conn:
                await conn.execute(text("INSERT INTO t SELECT max(n) + 1 FROM t"))

        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.05)  # the loop runs on while the write waits
        assert not waiting.done()
        other.execute("COMMIT")
        await asyncio.wait_for(waiting, 5)
        assert [n for (n,) in other.execute("SELECT n FROM t ORDER BY n")] == [1, 2]
    finally:
        other.close()
        await db.dispose()
