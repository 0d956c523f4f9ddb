"""Notification rows: what happened for one visitor, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update

from imagechat.domain.models import Notification
from imagechat.store.database import Connection
from imagechat.store.tables import notifications

_INSERT = insert(notifications)  # built once: see event_log._APPEND


def _to_notification(row: Any) -> Notification:
    return Notification(
        id=row.id, tenant_id=row.tenant_id, user_key=row.user_key, kind=row.kind,
        type=row.type, url_id=row.url_id, channel_url_id=row.channel_url_id,
        chat_id=row.chat_id, comment_id=row.comment_id, url=row.url,
        page_title=row.page_title, from_user_id=row.from_user_id, from_name=row.from_name,
        from_avatar=row.from_avatar, context=row.context, viewed=bool(row.viewed),
        created_at=row.created_at,
    )


async def add(conn: Connection, made: list[Notification]) -> None:
    if not made:
        return
    rows = [{
        "id": n.id, "tenant_id": n.tenant_id, "user_key": n.user_key, "kind": n.kind,
        "type": n.type, "url_id": n.url_id, "channel_url_id": n.channel_url_id,
        "chat_id": n.chat_id, "comment_id": n.comment_id, "url": n.url,
        "page_title": n.page_title, "from_user_id": n.from_user_id, "from_name": n.from_name,
        "from_avatar": n.from_avatar, "context": n.context, "viewed": n.viewed,
        "created_at": n.created_at,
    } for n in made]
    await conn.execute(_INSERT, rows[0] if len(rows) == 1 else rows)


async def page(
    conn: Connection, tenant_id: str, user_key: str, *, limit: int,
    before: tuple[int, str] | None, unread_only: bool,
) -> list[Notification]:
    """Newest first; `before` is the (created_at, id) of the last one already seen."""
    c = notifications.c
    where = [c.tenant_id == tenant_id, c.user_key == user_key]
    if unread_only:
        where.append(c.viewed.is_(False))
    if before is not None:
        at, ident = before
        where.append((c.created_at < at) | ((c.created_at == at) & (c.id < ident)))
    rows = await conn.execute(select(notifications).where(*where)
                              .order_by(c.created_at.desc(), c.id.desc()).limit(limit))
    return [_to_notification(r) for r in rows]


async def get(conn: Connection, tenant_id: str, notification_id: str) -> Notification | None:
    row = (await conn.execute(select(notifications).where(
        notifications.c.tenant_id == tenant_id, notifications.c.id == notification_id))).first()
    return _to_notification(row) if row else None


async def unread_count(conn: Connection, tenant_id: str, user_key: str) -> int:
    c = notifications.c
    value = (await conn.execute(select(func.count()).select_from(notifications).where(
        c.tenant_id == tenant_id, c.user_key == user_key, c.viewed.is_(False)))).scalar()
    return int(value or 0)


async def set_viewed(conn: Connection, tenant_id: str, user_key: str, *, viewed: bool,
                     notification_id: str | None = None) -> tuple[int, int]:
    """Mark one notification of this visitor (or all of them) read or unread; returns
    (matched, modified) as the reference counts them."""
    c = notifications.c
    where = [c.tenant_id == tenant_id, c.user_key == user_key]
    if notification_id is not None:
        where.append(c.id == notification_id)
    matched = int((await conn.execute(
        select(func.count()).select_from(notifications).where(*where))).scalar() or 0)
    result = await conn.execute(update(notifications).where(*where, c.viewed.is_(not viewed))
                                .values(viewed=viewed))
    return matched, int(result.rowcount or 0)


async def for_digest(conn: Connection, tenant_id: str, user_key: str, kinds: tuple[str, ...],
                     *, limit: int) -> list[Notification]:
    """The visitor's notifications of these kinds that are neither read nor emailed yet,
    oldest first."""
    c = notifications.c
    rows = await conn.execute(select(notifications).where(
        c.tenant_id == tenant_id, c.user_key == user_key, c.kind.in_(kinds),
        c.viewed.is_(False), c.emailed_at.is_(None)
    ).order_by(c.created_at, c.id).limit(limit))
    return [_to_notification(r) for r in rows]


async def mark_emailed(conn: Connection, tenant_id: str, ids: list[str], now_ms: int) -> None:
    if ids:
        await conn.execute(update(notifications).where(
            notifications.c.tenant_id == tenant_id, notifications.c.id.in_(ids)
        ).values(emailed_at=now_ms))
