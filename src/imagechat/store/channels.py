"""Channel rows: the per-image `seq` counter, its `epoch` and the read-only lock."""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update
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
    conn: Connection, tenant_id: str, url_id: str, now_ms: int
) -> ChannelPosition:
    """Reserve the next `seq` of a channel inside the caller's write transaction.

    The UPDATE takes the row lock (PostgreSQL) or runs under the database write lock
    (SQLite), so concurrent writers get consecutive numbers in commit order and a rolled
    back transaction gives its number back: the log has no gaps and no duplicates.
    """
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    # One statement: create the channel at seq 1, or bump an existing one (under its lock).
    stmt = insert(channels).values(
        tenant_id=tenant_id, url_id=url_id, seq=1, epoch=new_id()[:16], locked=False,
        created_at=now_ms, updated_at=now_ms,
    )
    bump = stmt.on_conflict_do_update(
        index_elements=[channels.c.tenant_id, channels.c.url_id],
        set_={"seq": channels.c.seq + 1, "updated_at": now_ms},
    ).returning(channels.c.seq, channels.c.epoch, channels.c.locked)
    row = (await conn.execute(bump)).one()
    return ChannelPosition(seq=row.seq, epoch=row.epoch, locked=bool(row.locked))


async def position(conn: Connection, tenant_id: str, url_id: str) -> ChannelPosition | None:
    row = (
        await conn.execute(
            select(channels.c.seq, channels.c.epoch, channels.c.locked).where(
                channels.c.tenant_id == tenant_id, channels.c.url_id == url_id
            )
        )
    ).first()
    if row is None:
        return None
    return ChannelPosition(seq=row.seq, epoch=row.epoch, locked=bool(row.locked))


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
