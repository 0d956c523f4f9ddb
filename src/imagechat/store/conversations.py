"""Conversation rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from imagechat.domain.models import Conversation
from imagechat.store.database import Connection
from imagechat.store.tables import conversations

# An image shows at most this many conversations; beyond it the list is cut (oldest first).
MAX_CONVERSATIONS_PER_IMAGE = 2000


def _to_conversation(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        tenant_id=row.tenant_id,
        url_id=row.url_id,
        window_url_id=row.window_url_id,
        page_url=row.page_url,
        page_title=row.page_title,
        src=row.src,
        x=row.x,
        y=row.y,
        comment_count=row.comment_count,
        resolved=bool(row.resolved),
        user_id=row.user_id,
        anon_user_id=row.anon_user_id,
        commenter_name=row.commenter_name,
        edit_key_hash=row.edit_key_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        region_w=row.region_w,
        region_h=row.region_h,
        version=row.version,
    )


_INSERT = insert(conversations)  # built once: see event_log._APPEND


async def insert_conversation(conn: Connection, c: Conversation) -> None:
    await conn.execute(_INSERT, {
        "id": c.id, "tenant_id": c.tenant_id, "url_id": c.url_id,
        "window_url_id": c.window_url_id, "page_url": c.page_url, "page_title": c.page_title,
        "src": c.src, "x": c.x, "y": c.y, "comment_count": c.comment_count,
        "resolved": c.resolved, "user_id": c.user_id, "anon_user_id": c.anon_user_id,
        "commenter_name": c.commenter_name, "edit_key_hash": c.edit_key_hash,
        "created_at": c.created_at, "updated_at": c.updated_at,
        "resolved_by": c.resolved_by, "resolved_at": c.resolved_at,
        "region_w": c.region_w, "region_h": c.region_h, "version": c.version,
    })


async def get_conversation(
    conn: Connection, tenant_id: str, chat_id: str
) -> Conversation | None:
    row = (
        await conn.execute(
            select(conversations).where(
                conversations.c.tenant_id == tenant_id, conversations.c.id == chat_id
            )
        )
    ).first()
    return _to_conversation(row) if row else None


# Run on every create: built once (building a statement and its cache key costs more than
# running it on SQLite).
_BY_WINDOW_URL_ID = select(conversations).where(
    conversations.c.tenant_id == bindparam("tenant_id"),
    conversations.c.window_url_id == bindparam("window_url_id"))


async def by_window_url_id(
    conn: Connection, tenant_id: str, window_url_id: str
) -> Conversation | None:
    row = (await conn.execute(_BY_WINDOW_URL_ID, {"tenant_id": tenant_id,
                                                  "window_url_id": window_url_id})).first()
    return _to_conversation(row) if row else None


async def list_for_image(
    conn: Connection, tenant_id: str, url_id: str,
    limit: int = MAX_CONVERSATIONS_PER_IMAGE, offset: int = 0,
) -> list[Conversation]:
    rows = await conn.execute(
        select(conversations)
        .where(conversations.c.tenant_id == tenant_id, conversations.c.url_id == url_id)
        .order_by(conversations.c.created_at, conversations.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_to_conversation(r) for r in rows]


async def list_for_tenant(
    conn: Connection, tenant_id: str, limit: int, offset: int
) -> list[Conversation]:
    rows = await conn.execute(
        select(conversations)
        .where(conversations.c.tenant_id == tenant_id)
        .order_by(conversations.c.created_at, conversations.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_to_conversation(r) for r in rows]


async def add_to_comment_count(
    conn: Connection, tenant_id: str, chat_id: str, delta: int, now_ms: int
) -> Conversation:
    await conn.execute(
        update(conversations)
        .where(conversations.c.tenant_id == tenant_id, conversations.c.id == chat_id)
        .values(comment_count=func.max(conversations.c.comment_count + delta, 0)
                if conn.dialect.name == "sqlite"
                else func.greatest(conversations.c.comment_count + delta, 0),
                updated_at=now_ms)
    )
    updated = await get_conversation(conn, tenant_id, chat_id)
    assert updated is not None  # the caller holds the row inside this transaction
    return updated


async def delete_conversation(conn: Connection, tenant_id: str, chat_id: str) -> None:
    await conn.execute(
        delete(conversations).where(
            conversations.c.tenant_id == tenant_id, conversations.c.id == chat_id
        )
    )


async def by_window_url_ids(
    conn: Connection, tenant_id: str, window_url_ids: list[str]
) -> dict[str, Conversation]:
    """The conversations whose threads are among these urlIds, by thread."""
    if not window_url_ids:
        return {}
    rows = await conn.execute(
        select(conversations).where(conversations.c.tenant_id == tenant_id,
                                    conversations.c.window_url_id.in_(window_url_ids))
    )
    return {row.window_url_id: _to_conversation(row) for row in rows}


async def set_comment_count(
    conn: Connection, tenant_id: str, chat_id: str, count: int, now_ms: int
) -> None:
    await conn.execute(
        update(conversations)
        .where(conversations.c.tenant_id == tenant_id, conversations.c.id == chat_id)
        .values(comment_count=count, updated_at=now_ms)
    )


async def set_resolved(
    conn: Connection, tenant_id: str, chat_id: str, *, resolved: bool, by: str | None,
    now_ms: int,
) -> Conversation:
    """Resolve (recording who and when) or reopen (keeping the last resolution's record)."""
    values: dict[str, Any] = {"resolved": resolved, "updated_at": now_ms}
    if resolved:
        values.update(resolved_by=by, resolved_at=now_ms)
    await conn.execute(
        update(conversations)
        .where(conversations.c.tenant_id == tenant_id, conversations.c.id == chat_id)
        .values(**values)
    )
    updated = await get_conversation(conn, tenant_id, chat_id)
    assert updated is not None  # the caller holds the row inside this transaction
    return updated


async def set_place(
    conn: Connection, tenant_id: str, chat_id: str, *, x: float, y: float,
    region_w: float | None, region_h: float | None, now_ms: int,
) -> Conversation:
    """Move a conversation on its own version (its thread's id does not change)."""
    await conn.execute(
        update(conversations)
        .where(conversations.c.tenant_id == tenant_id, conversations.c.id == chat_id)
        .values(x=x, y=y, region_w=region_w, region_h=region_h, updated_at=now_ms)
    )
    updated = await get_conversation(conn, tenant_id, chat_id)
    assert updated is not None  # the caller holds the row inside this transaction
    return updated


async def set_version(
    conn: Connection, tenant_id: str, conversation_ids: list[str], version: int, now_ms: int
) -> None:
    """Say which version of their image these conversations were made on."""
    if not conversation_ids:
        return
    await conn.execute(
        update(conversations)
        .where(conversations.c.tenant_id == tenant_id, conversations.c.id.in_(conversation_ids))
        .values(version=version, updated_at=now_ms)
    )


async def without_version(conn: Connection, tenant_id: str, url_id: str) -> list[str]:
    """Conversations of an image made before it had versions."""
    rows = await conn.execute(
        select(conversations.c.id).where(conversations.c.tenant_id == tenant_id,
                                         conversations.c.url_id == url_id,
                                         conversations.c.version.is_(None))
    )
    return [r.id for r in rows]
