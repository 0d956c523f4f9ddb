"""Comment rows."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from imagechat.domain.models import Comment, Mention
from imagechat.store.database import Connection
from imagechat.store.tables import comments, conversations


def _to_comment(row: Any) -> Comment:
    return Comment(
        id=row.id, tenant_id=row.tenant_id, url_id=row.url_id, url=row.url, parent_id=row.parent_id,
        commenter_name=row.commenter_name, comment=row.comment, comment_html=row.comment_html,
        user_id=row.user_id, anon_user_id=row.anon_user_id, avatar=row.avatar,
        verified=bool(row.verified), approved=bool(row.approved),
        is_by_admin=bool(row.is_by_admin), is_by_moderator=bool(row.is_by_moderator),
        votes_up=row.votes_up, votes_down=row.votes_down, edit_key_hash=row.edit_key_hash,
        created_at=row.created_at, updated_at=row.updated_at,
        mentions=mentions_from_json(row.mentions),
    )


def mentions_from_json(text: str | None) -> tuple[Mention, ...]:
    return tuple(Mention(id=m["id"], tag=m["tag"]) for m in orjson.loads(text or "[]"))


def mentions_json(mentions: tuple[Mention, ...]) -> str:
    return orjson.dumps([{"id": m.id, "tag": m.tag} for m in mentions]).decode()


_INSERT = insert(comments)  # built once: see event_log._APPEND


async def insert_comment(conn: Connection, c: Comment) -> None:
    await conn.execute(_INSERT, {
        "id": c.id, "tenant_id": c.tenant_id, "url_id": c.url_id, "url": c.url,
        "parent_id": c.parent_id,
        "commenter_name": c.commenter_name, "comment": c.comment,
        "comment_html": c.comment_html, "user_id": c.user_id, "anon_user_id": c.anon_user_id,
        "avatar": c.avatar, "verified": c.verified, "approved": c.approved,
        "is_by_admin": c.is_by_admin, "is_by_moderator": c.is_by_moderator,
        "votes_up": c.votes_up, "votes_down": c.votes_down, "edit_key_hash": c.edit_key_hash,
        "created_at": c.created_at, "updated_at": c.updated_at,
        "mentions": mentions_json(c.mentions),
    })


async def get_comment(conn: Connection, tenant_id: str, comment_id: str) -> Comment | None:
    row = (
        await conn.execute(
            select(comments).where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
        )
    ).first()
    return _to_comment(row) if row else None


# Orders of a thread's comments: the reference's `direction` values. Oldest first is how
# a chat reads; `id` breaks ties between equal timestamps.
OLDEST_FIRST = "OF"
NEWEST_FIRST = "NF"
MOST_RELEVANT = "MR"


def _order(direction: str) -> list[Any]:
    c = comments.c
    if direction == NEWEST_FIRST:
        return [c.created_at.desc(), c.id.desc()]
    if direction == MOST_RELEVANT:
        return [(c.votes_up - c.votes_down).desc(), c.created_at.desc(), c.id.desc()]
    return [c.created_at, c.id]


async def page_for_url_id(
    conn: Connection, tenant_id: str, url_id: str, *, offset: int, limit: int,
    direction: str = OLDEST_FIRST,
) -> list[Comment]:
    rows = await conn.execute(
        select(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.url_id == url_id)
        .order_by(*_order(direction))
        .offset(offset)
        .limit(limit)
    )
    return [_to_comment(r) for r in rows]


# Run on every create: built once (see store/conversations.py, _BY_WINDOW_URL_ID).
_COUNT_FOR_URL_ID = select(func.count()).select_from(comments).where(
    comments.c.tenant_id == bindparam("tenant_id"), comments.c.url_id == bindparam("url_id"))


async def count_for_url_id(conn: Connection, tenant_id: str, url_id: str) -> int:
    value = (await conn.execute(_COUNT_FOR_URL_ID, {"tenant_id": tenant_id,
                                                    "url_id": url_id})).scalar()
    return int(value or 0)


async def in_thread(conn: Connection, tenant_id: str, url_id: str) -> list[Comment]:
    """Every comment of one thread, oldest first (deleting a subtree needs them all)."""
    rows = await conn.execute(
        select(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.url_id == url_id)
        .order_by(comments.c.created_at, comments.c.id)
    )
    return [_to_comment(r) for r in rows]


async def for_image(
    conn: Connection, tenant_id: str, url_id: str, limit: int
) -> list[Comment]:
    """The comments of every conversation on one image, oldest first, at most `limit`."""
    rows = await conn.execute(
        select(comments)
        .join(conversations, and_(conversations.c.tenant_id == comments.c.tenant_id,
                                  conversations.c.window_url_id == comments.c.url_id))
        .where(comments.c.tenant_id == tenant_id, conversations.c.url_id == url_id)
        .order_by(comments.c.created_at, comments.c.id)
        .limit(limit)
    )
    return [_to_comment(r) for r in rows]


async def page_all(
    conn: Connection, tenant_id: str, *, url_id: str | None, user_id: str | None,
    anon_user_id: str | None, parent_id: str | None, from_ms: int | None, to_ms: int | None,
    direction: str, offset: int, limit: int,
) -> list[Comment]:
    """Comments of a tenant matching every filter given (the server-to-server listing)."""
    c = comments.c
    where = [c.tenant_id == tenant_id]
    if url_id is not None:
        where.append(c.url_id == url_id)
    if user_id is not None:
        where.append(c.user_id == user_id)
    if anon_user_id is not None:
        where.append(c.anon_user_id == anon_user_id)
    if parent_id is not None:
        where.append(c.parent_id == parent_id)
    if from_ms is not None:
        where.append(c.created_at >= from_ms)
    if to_ms is not None:
        where.append(c.created_at <= to_ms)
    rows = await conn.execute(
        select(comments).where(*where).order_by(*_order(direction)).offset(offset).limit(limit)
    )
    return [_to_comment(r) for r in rows]


async def existing_ids(conn: Connection, tenant_id: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    rows = await conn.execute(
        select(comments.c.id).where(comments.c.tenant_id == tenant_id, comments.c.id.in_(ids)))
    return {r.id for r in rows}


async def update_fields(
    conn: Connection, tenant_id: str, comment_id: str, values: dict[str, Any]
) -> None:
    """Change stored fields of one comment (the site's backend editing through the API)."""
    await conn.execute(
        update(comments)
        .where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
        .values(**values)
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


async def lock_comment(conn: Connection, tenant_id: str, comment_id: str) -> Comment | None:
    """Read a comment and hold its row until the transaction ends (PostgreSQL; SQLite
    writers are one at a time anyway), so that what is counted about it next is exact."""
    row = (await conn.execute(
        select(comments).where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
        .with_for_update()
    )).first()
    return _to_comment(row) if row else None
