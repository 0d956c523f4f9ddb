"""Hourly usage counters per tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.models import UsageBucket
from imagechat.store.database import Connection
from imagechat.store.tables import usage

HOUR_MS = 3_600_000
COUNTERS = ("pubsub_message_count", "pubsub_bandwidth", "conversation_create_count",
            "comment_create_count")


def hour_of(ms: int) -> int:
    return ms - ms % HOUR_MS


async def add(conn: Connection, tenant_id: str, at_ms: int, **deltas: int) -> None:
    """Add to counters of the hour that holds `at_ms` (an upsert, safe across nodes)."""
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown usage counters: {sorted(unknown)}")
    await conn.execute(_ADD[conn.dialect.name], {
        "tenant_id": tenant_id, "hour": hour_of(at_ms),
        **{name: deltas.get(name, 0) for name in COUNTERS}, "peak_viewers": 0,
    })


def _add_statement(insert: Any) -> Any:
    stmt = insert(usage)
    return stmt.on_conflict_do_update(
        index_elements=[usage.c.tenant_id, usage.c.hour],
        set_={name: usage.c[name] + stmt.excluded[name] for name in COUNTERS},
    )


# Built once per dialect: writes count usage in their own transaction.
_ADD = {"sqlite": _add_statement(sqlite_insert), "postgresql": _add_statement(pg_insert)}


async def raise_peak(conn: Connection, tenant_id: str, hour: int, viewers: int) -> None:
    """Record `viewers` as the hour's peak unless a larger one is stored already.

    Each node writes its own peak; the row keeps the largest (max, not sum: the nodes'
    peaks need not have happened at the same moment)."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    stmt = insert(usage).values(
        tenant_id=tenant_id, hour=hour_of(hour), **dict.fromkeys(COUNTERS, 0),
        peak_viewers=viewers,
    )
    larger = func.max if conn.dialect.name == "sqlite" else func.greatest
    stmt = stmt.on_conflict_do_update(
        index_elements=[usage.c.tenant_id, usage.c.hour],
        set_={"peak_viewers": larger(usage.c.peak_viewers, stmt.excluded.peak_viewers)},
    )
    await conn.execute(stmt)


async def between(
    conn: Connection, tenant_id: str, from_ms: int, to_ms: int
) -> list[UsageBucket]:
    rows = await conn.execute(
        select(usage)
        .where(usage.c.tenant_id == tenant_id, usage.c.hour >= hour_of(from_ms),
               usage.c.hour <= to_ms)
        .order_by(usage.c.hour)
    )
    return [
        UsageBucket(
            hour=r.hour, pubsub_message_count=r.pubsub_message_count,
            pubsub_bandwidth=r.pubsub_bandwidth,
            conversation_create_count=r.conversation_create_count,
            comment_create_count=r.comment_create_count, peak_viewers=r.peak_viewers,
        )
        for r in rows
    ]
