"""Bans and the moderation log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select

from imagechat.domain.models import Ban, ModerationEntry
from imagechat.store.database import Connection
from imagechat.store.tables import bans, channels, moderation_log

USER_PREFIX = "u:"
ANON_PREFIX = "a:"


def ban_subject(user_id: str | None, anon_user_id: str | None) -> str:
    if user_id is not None:
        return USER_PREFIX + user_id
    assert anon_user_id is not None
    return ANON_PREFIX + anon_user_id


def _ban(row: Any) -> Ban:
    subject: str = row.subject
    is_user = subject.startswith(USER_PREFIX)
    return Ban(
        tenant_id=row.tenant_id,
        user_id=subject[len(USER_PREFIX):] if is_user else None,
        anon_user_id=None if is_user else subject[len(ANON_PREFIX):],
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )


# A write's two checks in one round trip: is the image locked, is the writer banned.
_GUARD = select(
    select(channels.c.locked).where(
        channels.c.tenant_id == bindparam("tenant_id"), channels.c.url_id == bindparam("url_id")
    ).scalar_subquery().label("locked"),
    exists().where(
        bans.c.tenant_id == bindparam("tenant_id"),
        bans.c.subject.in_(bindparam("subjects", expanding=True)),
    ).label("banned"),
)


async def write_guard(
    conn: Connection, tenant_id: str, url_id: str, subjects: list[str]
) -> tuple[bool, bool]:
    """(locked, banned) for a write by these ban subjects to this image."""
    row = (await conn.execute(_GUARD, {"tenant_id": tenant_id, "url_id": url_id,
                                       "subjects": subjects})).one()
    return bool(row.locked), bool(row.banned)


async def find_ban(conn: Connection, tenant_id: str, subject: str) -> Ban | None:
    row = (await conn.execute(
        select(bans).where(bans.c.tenant_id == tenant_id, bans.c.subject == subject)
    )).first()
    return None if row is None else _ban(row)


async def insert_ban(
    conn: Connection, tenant_id: str, subject: str, reason: str, created_by: str,
    now_ms: int,
) -> None:
    await conn.execute(insert(bans).values(tenant_id=tenant_id, subject=subject, reason=reason,
                                           created_by=created_by, created_at=now_ms))


async def delete_ban(conn: Connection, tenant_id: str, subject: str) -> bool:
    result = await conn.execute(
        delete(bans).where(bans.c.tenant_id == tenant_id, bans.c.subject == subject))
    return result.rowcount > 0


async def list_bans(conn: Connection, tenant_id: str, limit: int) -> list[Ban]:
    rows = await conn.execute(
        select(bans).where(bans.c.tenant_id == tenant_id)
        .order_by(bans.c.created_at.desc(), bans.c.subject).limit(limit))
    return [_ban(r) for r in rows]


async def append(conn: Connection, entry: ModerationEntry) -> None:
    await conn.execute(insert(moderation_log).values(
        id=entry.id, tenant_id=entry.tenant_id, actor=entry.actor, action=entry.action,
        target=entry.target, detail=entry.detail, created_at=entry.created_at))


async def entries(
    conn: Connection, tenant_id: str, limit: int, before_ms: int | None
) -> list[ModerationEntry]:
    query = select(moderation_log).where(moderation_log.c.tenant_id == tenant_id)
    if before_ms is not None:
        query = query.where(moderation_log.c.created_at < before_ms)
    rows = await conn.execute(
        query.order_by(moderation_log.c.created_at.desc(), moderation_log.c.id.desc())
        .limit(limit))
    return [ModerationEntry(id=r.id, tenant_id=r.tenant_id, actor=r.actor, action=r.action,
                            target=r.target, detail=r.detail, created_at=r.created_at)
            for r in rows]


async def banned_among(conn: Connection, tenant_id: str, subjects: list[str]) -> set[str]:
    """Which of these ban subjects are banned in the tenant."""
    if not subjects:
        return set()
    rows = await conn.execute(select(bans.c.subject).where(bans.c.tenant_id == tenant_id,
                                                           bans.c.subject.in_(subjects)))
    return {r.subject for r in rows}
