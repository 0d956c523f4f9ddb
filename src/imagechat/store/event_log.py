"""The per-channel event log (docs/data-model.md, Channels): append inside the write,
replay on resync."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select

from imagechat.domain.models import StoredEvent
from imagechat.store.database import Connection
from imagechat.store.tables import events

# One replay or event-log page never returns more than this many events.
MAX_EVENTS_PER_READ = 1000


def _to_event(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        tenant_id=row.tenant_id,
        url_id=row.url_id,
        seq=row.seq,
        type=row.type,
        broadcast_id=row.broadcast_id,
        created_at=row.created_at,
        data=row.data,
    )


# Built once: every write appends events, and building the statement per call (values,
# bind parameters, cache key) costs more than running it.
_APPEND = insert(events)


async def append(conn: Connection, *appended: StoredEvent) -> None:
    """Append events to the log: one statement for all of them."""
    rows = [{
        "id": event.id, "tenant_id": event.tenant_id, "url_id": event.url_id,
        "seq": event.seq, "type": event.type, "broadcast_id": event.broadcast_id,
        "created_at": event.created_at, "data": event.data,
    } for event in appended]
    await conn.execute(_APPEND, rows[0] if len(rows) == 1 else rows)


async def since_seq(
    conn: Connection, tenant_id: str, url_id: str, after_seq: int,
    limit: int = MAX_EVENTS_PER_READ,
) -> list[StoredEvent]:
    rows = await conn.execute(
        select(events)
        .where(events.c.tenant_id == tenant_id, events.c.url_id == url_id,
               events.c.seq > after_seq)
        .order_by(events.c.seq)
        .limit(limit)
    )
    return [_to_event(r) for r in rows]


async def between_times(
    conn: Connection, tenant_id: str, url_id: str, start_ms: int, end_ms: int,
    limit: int = MAX_EVENTS_PER_READ,
) -> list[StoredEvent]:
    rows = await conn.execute(
        select(events)
        .where(events.c.tenant_id == tenant_id, events.c.url_id == url_id,
               events.c.created_at >= start_ms, events.c.created_at <= end_ms)
        .order_by(events.c.seq)
        .limit(limit)
    )
    return [_to_event(r) for r in rows]


async def oldest_seq(conn: Connection, tenant_id: str, url_id: str) -> int | None:
    value = (
        await conn.execute(
            select(func.min(events.c.seq)).where(
                events.c.tenant_id == tenant_id, events.c.url_id == url_id
            )
        )
    ).scalar()
    return int(value) if value is not None else None


async def trim(
    conn: Connection, tenant_id: str, url_id: str, *, keep_after_seq: int
) -> int:
    result = await conn.execute(
        delete(events).where(
            events.c.tenant_id == tenant_id, events.c.url_id == url_id,
            events.c.seq <= keep_after_seq,
        )
    )
    return int(result.rowcount or 0)


async def trim_older_than(conn: Connection, cutoff_ms: int) -> int:
    result = await conn.execute(delete(events).where(events.c.created_at < cutoff_ms))
    return int(result.rowcount or 0)
