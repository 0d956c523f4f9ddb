"""Comment rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update

from imagechat.domain.models import Comment
from imagechat.store.database import Connection
from imagechat.store.tables import comments, conversations


def _to_comment(row: Any) -> Comment:
    return Comment(
        id=row.id, tenant_id=row.tenant_id, conversation_id=row.conversation_id,
        url_id=row.url_id, url=row.url, parent_id=row.parent_id,
        commenter_name=row.commenter_name, comment=row.comment, comment_html=row.comment_html,
        user_id=row.user_id, anon_user_id=row.anon_user_id, avatar=row.avatar,
        verified=bool(row.verified), approved=bool(row.approved),
        is_by_admin=bool(row.is_by_admin), is_by_moderator=bool(row.is_by_moderator),
        votes_up=row.votes_up, votes_down=row.votes_down, edit_key_hash=row.edit_key_hash,
        created_at=row.created_at, updated_at=row.updated_at,
    )


_INSERT = insert(comments)  # built once: see event_log._APPEND


async def insert_comment(conn: Connection, c: Comment) -> None:
    await conn.execute(_INSERT, {
        "id": c.id, "tenant_id": c.tenant_id, "conversation_id": c.conversation_id,
        "url_id": c.url_id, "url": c.url, "parent_id": c.parent_id,
        "commenter_name": c.commenter_name, "comment": c.comment,
        "comment_html": c.comment_html, "user_id": c.user_id, "anon_user_id": c.anon_user_id,
        "avatar": c.avatar, "verified": c.verified, "approved": c.approved,
        "is_by_admin": c.is_by_admin, "is_by_moderator": c.is_by_moderator,
        "votes_up": c.votes_up, "votes_down": c.votes_down, "edit_key_hash": c.edit_key_hash,
        "created_at": c.created_at, "updated_at": c.updated_at,
    })


async def get_comment(conn: Connection, tenant_id: str, comment_id: str) -> Comment | None:
    row = (
        await conn.execute(
            select(comments).where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
        )
    ).first()
    return _to_comment(row) if row else None


async def page_for_url_id(
    conn: Connection, tenant_id: str, url_id: str, *, offset: int, limit: int
) -> list[Comment]:
    """Oldest first, as a chat reads; `id` breaks ties between equal timestamps."""
    rows = await conn.execute(
        select(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.url_id == url_id)
        .order_by(comments.c.created_at, comments.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_to_comment(r) for r in rows]


async def count_for_url_id(conn: Connection, tenant_id: str, url_id: str) -> int:
    value = (
        await conn.execute(
            select(func.count()).select_from(comments).where(
                comments.c.tenant_id == tenant_id, comments.c.url_id == url_id
            )
        )
    ).scalar()
    return int(value or 0)


async def for_conversation(
    conn: Connection, tenant_id: str, conversation_id: str
) -> list[Comment]:
    rows = await conn.execute(
        select(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.conversation_id == conversation_id)
        .order_by(comments.c.created_at, comments.c.id)
    )
    return [_to_comment(r) for r in rows]


async def for_image(
    conn: Connection, tenant_id: str, url_id: str, limit: int
) -> list[Comment]:
    """The comments of every conversation on one image, oldest first, at most `limit`."""
    rows = await conn.execute(
        select(comments)
        .join(conversations, conversations.c.id == comments.c.conversation_id)
        .where(comments.c.tenant_id == tenant_id, conversations.c.tenant_id == tenant_id,
               conversations.c.url_id == url_id)
        .order_by(comments.c.created_at, comments.c.id)
        .limit(limit)
    )
    return [_to_comment(r) for r in rows]


async def update_text(
    conn: Connection, tenant_id: str, comment_id: str, text: str, html: str, now_ms: int
) -> None:
    await conn.execute(
        update(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
        .values(comment=text, comment_html=html, updated_at=now_ms)
    )


async def add_votes(
    conn: Connection, tenant_id: str, comment_id: str, up: int, down: int
) -> None:
    await conn.execute(
        update(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
        .values(votes_up=comments.c.votes_up + up, votes_down=comments.c.votes_down + down)
    )


async def delete_comments(conn: Connection, tenant_id: str, ids: list[str]) -> None:
    if ids:
        await conn.execute(
            delete(comments).where(comments.c.tenant_id == tenant_id, comments.c.id.in_(ids))
        )
