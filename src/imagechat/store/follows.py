"""Follow rows: which visitors follow which threads."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.store.database import Connection
from imagechat.store.tables import follows

# A thread notifies at most this many followers per comment; past it, the oldest follows
# win. A bound, so one popular thread cannot make one write unboundedly large.
MAX_FOLLOWERS_NOTIFIED = 500


async def follow(conn: Connection, tenant_id: str, url_id: str, user_key: str, *, url: str,
                 page_title: str, now_ms: int) -> None:
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    await conn.execute(insert(follows).values(
        tenant_id=tenant_id, url_id=url_id, user_key=user_key, url=url[:2000],
        page_title=page_title[:300], created_at=now_ms).on_conflict_do_nothing())


async def unfollow(conn: Connection, tenant_id: str, url_id: str, user_key: str) -> bool:
    result = await conn.execute(delete(follows).where(
        follows.c.tenant_id == tenant_id, follows.c.url_id == url_id,
        follows.c.user_key == user_key))
    return bool(result.rowcount)


async def follows_thread(conn: Connection, tenant_id: str, url_id: str, user_key: str) -> bool:
    row = (await conn.execute(select(follows.c.user_key).where(
        follows.c.tenant_id == tenant_id, follows.c.url_id == url_id,
        follows.c.user_key == user_key))).first()
    return row is not None


async def followers(conn: Connection, tenant_id: str, url_id: str) -> list[str]:
    rows = await conn.execute(
        select(follows.c.user_key)
        .where(follows.c.tenant_id == tenant_id, follows.c.url_id == url_id)
        .order_by(follows.c.created_at, follows.c.user_key)
        .limit(MAX_FOLLOWERS_NOTIFIED)
    )
    return [r.user_key for r in rows]
