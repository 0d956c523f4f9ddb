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


async def add(
    conn: Connection, tenant_id: str, at_ms: int, *, peak_viewers: int = 0, **deltas: int
) -> None:
    """Add to the counters of the hour that holds `at_ms`, and raise its peak of viewers
    to `peak_viewers` unless a larger one is stored (an upsert, safe across nodes).

    Each node writes its own peak; the row keeps the largest (max, not sum: the nodes'
    peaks need not have happened at the same moment)."""
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown usage counters: {sorted(unknown)}")
    await conn.execute(_ADD[conn.dialect.name], {
        "tenant_id": tenant_id, "hour": hour_of(at_ms),
        **{name: deltas.get(name, 0) for name in COUNTERS}, "peak_viewers": peak_viewers,
    })


def _add_statement(insert: Any, larger: Any) -> Any:
    stmt = insert(usage)
    return stmt.on_conflict_do_update(
        index_elements=[usage.c.tenant_id, usage.c.hour],
        set_={**{name: usage.c[name] + stmt.excluded[name] for name in COUNTERS},
              "peak_viewers": larger(usage.c.peak_viewers, stmt.excluded.peak_viewers)},
    )


# Built once per dialect: writes count usage in their own transaction.
_ADD = {"sqlite": _add_statement(sqlite_insert, func.max),
        "postgresql": _add_statement(pg_insert, func.greatest)}


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
