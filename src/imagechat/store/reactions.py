"""Reaction rows: one per (comment, emoji, visitor)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.store.database import Connection
from imagechat.store.tables import reactions

# Comments looked up per statement when reading counts for a page of comments.
_CHUNK = 500


async def put(conn: Connection, tenant_id: str, comment_id: str, emoji: str, voter_key: str,
              now_ms: int) -> bool:
    """Add a visitor's reaction; False when it was there already (one of each per visitor)."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    result = await conn.execute(insert(reactions).values(
        comment_id=comment_id, emoji=emoji, voter_key=voter_key, tenant_id=tenant_id,
        created_at=now_ms).on_conflict_do_nothing())
    return bool(result.rowcount)


async def take(conn: Connection, tenant_id: str, comment_id: str, emoji: str,
               voter_key: str) -> bool:
    """Remove a visitor's reaction; False when there was none."""
    result = await conn.execute(delete(reactions).where(
        reactions.c.tenant_id == tenant_id, reactions.c.comment_id == comment_id,
        reactions.c.emoji == emoji, reactions.c.voter_key == voter_key))
    return bool(result.rowcount)


async def counts(conn: Connection, tenant_id: str, comment_ids: list[str]
                 ) -> dict[str, dict[str, int]]:
    """Per comment: emoji -> how many visitors put it (comments without any are absent)."""
    found: dict[str, dict[str, int]] = {}
    for start in range(0, len(comment_ids), _CHUNK):
        chunk = comment_ids[start : start + _CHUNK]
        rows = await conn.execute(
            select(reactions.c.comment_id, reactions.c.emoji, func.count().label("n"))
            .where(reactions.c.tenant_id == tenant_id, reactions.c.comment_id.in_(chunk))
            .group_by(reactions.c.comment_id, reactions.c.emoji)
        )
        for row in rows:
            found.setdefault(row.comment_id, {})[row.emoji] = int(row.n)
    return found


async def mine(conn: Connection, tenant_id: str, comment_ids: list[str], voter_key: str
               ) -> dict[str, list[str]]:
    """Per comment: the emoji this visitor put on it."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(comment_ids), _CHUNK):
        chunk = comment_ids[start : start + _CHUNK]
        rows = await conn.execute(
            select(reactions.c.comment_id, reactions.c.emoji)
            .where(reactions.c.tenant_id == tenant_id, reactions.c.comment_id.in_(chunk),
                   reactions.c.voter_key == voter_key)
            .order_by(reactions.c.comment_id, reactions.c.emoji)
        )
        for row in rows:
            found.setdefault(row.comment_id, []).append(row.emoji)
    return found
