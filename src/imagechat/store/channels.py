"""Channel rows: the per-image `seq` counter, its `epoch` and the read-only lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.ids import new_id
from imagechat.domain.models import ChannelPosition
from imagechat.store.database import Connection
from imagechat.store.tables import channels


async def ensure_channel(conn: Connection, tenant_id: str, url_id: str, now_ms: int) -> None:
    values = {
        "tenant_id": tenant_id,
        "url_id": url_id,
        "seq": 0,
        "epoch": new_id()[:16],
        "locked": False,
        "created_at": now_ms,
        "updated_at": now_ms,
    }
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    await conn.execute(insert(channels).values(**values).on_conflict_do_nothing())


async def next_seq(
    conn: Connection, tenant_id: str, url_id: str, now_ms: int, count: int = 1
) -> ChannelPosition:
    """Reserve the next `count` seqs of a channel inside the caller's write transaction;
    the position returned holds the last of them.

    The UPDATE takes the row lock (PostgreSQL) or runs under the database write lock
    (SQLite), so concurrent writers get consecutive numbers in commit order and a rolled
    back transaction gives its number back: the log has no gaps and no duplicates.
    """
    row = (await conn.execute(_NEXT_SEQ[conn.dialect.name], {
        "tenant_id": tenant_id, "url_id": url_id, "epoch": new_id()[:16], "now": now_ms,
        "count": count,
    })).one()
    return ChannelPosition(seq=row.seq, epoch=row.epoch, locked=bool(row.locked))


def _next_seq_statement(insert: Any) -> Any:
    # One statement: create the channel at seq `count`, or bump an existing one by `count`
    # (under its lock).
    stmt = insert(channels).values(
        tenant_id=bindparam("tenant_id"), url_id=bindparam("url_id"), seq=bindparam("count"),
        epoch=bindparam("epoch"), locked=False, created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[channels.c.tenant_id, channels.c.url_id],
        set_={"seq": channels.c.seq + stmt.excluded.seq, "updated_at": stmt.excluded.updated_at},
    ).returning(channels.c.seq, channels.c.epoch, channels.c.locked)


# Built once per dialect: every recorded event runs it (see event_log._APPEND).
_NEXT_SEQ = {"sqlite": _next_seq_statement(sqlite_insert),
             "postgresql": _next_seq_statement(pg_insert)}

_POSITION = select(channels.c.seq, channels.c.epoch, channels.c.locked).where(
    channels.c.tenant_id == bindparam("tenant_id"), channels.c.url_id == bindparam("url_id"))


async def position(conn: Connection, tenant_id: str, url_id: str) -> ChannelPosition | None:
    row = (await conn.execute(_POSITION, {"tenant_id": tenant_id, "url_id": url_id})).first()
    if row is None:
        return None
    return ChannelPosition(seq=row.seq, epoch=row.epoch, locked=bool(row.locked))


async def renew_epoch(conn: Connection, tenant_id: str, url_id: str, now_ms: int) -> None:
    """Give a channel a new epoch (creating it if needed): its history no longer tells the
    whole story, so clients resuming from before must reload."""
    await ensure_channel(conn, tenant_id, url_id, now_ms)
    await conn.execute(
        update(channels)
        .where(channels.c.tenant_id == tenant_id, channels.c.url_id == url_id)
        .values(epoch=new_id()[:16], updated_at=now_ms)
    )


async def set_locked(
    conn: Connection, tenant_id: str, url_id: str, locked: bool, now_ms: int
) -> None:
    await ensure_channel(conn, tenant_id, url_id, now_ms)
    await conn.execute(
        update(channels)
        .where(channels.c.tenant_id == tenant_id, channels.c.url_id == url_id)
        .values(locked=locked, updated_at=now_ms)
    )


# Channels looked up per query by `latest_seqs`; keeps each statement small.
_LOOKUP_CHUNK = 200


async def latest_seqs(
    conn: Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The current `seq` of many channels at once (the hub's periodic audit)."""
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        condition = or_(*(and_(channels.c.tenant_id == t, channels.c.url_id == u)
                          for t, u in chunk))
        rows = await conn.execute(
            select(channels.c.tenant_id, channels.c.url_id, channels.c.seq).where(condition)
        )
        for row in rows:
            found[(row.tenant_id, row.url_id)] = row.seq
    return found


async def longer_than(conn: Connection, count: int) -> list[tuple[str, str, int]]:
    """Channels whose seq passed `count` (candidates for trimming their history)."""
    rows = await conn.execute(
        select(channels.c.tenant_id, channels.c.url_id, channels.c.seq).where(
            channels.c.seq > count
        )
    )
    return [(r.tenant_id, r.url_id, r.seq) for r in rows]


async def locked_among(conn: Connection, tenant_id: str, url_ids: list[str]) -> set[str]:
    """Which of these channels of one tenant are locked."""
    if not url_ids:
        return set()
    rows = await conn.execute(
        select(channels.c.url_id).where(channels.c.tenant_id == tenant_id,
                                        channels.c.url_id.in_(url_ids), channels.c.locked)
    )
    return {r.url_id for r in rows}
