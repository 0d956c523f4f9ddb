"""User rows: who wrote what, kept current from the latest SSO payload."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.actor import Actor
from imagechat.domain.ids import new_id
from imagechat.domain.models import KnownUser, Recipient
from imagechat.store.database import Connection
from imagechat.store.tables import email_bounces, users

# Kinds of user rows that are signed-in users (Secure SSO, Simple SSO); "anon" is not.
SIGNED_IN_KINDS = ("sso", "simple")


async def remember(conn: Connection, actor: Actor, now_ms: int) -> None:
    """Record (or refresh) the acting user. Backend calls have no user to remember (one
    that names an author vouches for no SSO session of theirs)."""
    if actor.is_backend:
        return
    if actor.user_id is not None:
        kind, external_id = ("sso" if actor.verified else "simple"), actor.user_id
    elif actor.anon_user_id is not None:
        kind, external_id = "anon", actor.anon_user_id
    else:
        return
    await conn.execute(_REMEMBER[conn.dialect.name], {
        "id": new_id(), "tenant_id": actor.tenant_id, "kind": kind, "external_id": external_id,
        "display_name": actor.display_name, "email": actor.email, "locale": actor.locale,
        "avatar": actor.avatar,
        "is_admin": actor.is_admin, "is_moderator": actor.is_moderator,
        "created_at": now_ms, "last_seen_at": now_ms,
    })


def _remember_statement(insert: Any) -> Any:
    # Insert, or refresh what the latest SSO payload says: one statement either way.
    stmt = insert(users)
    fresh = ("display_name", "email", "locale", "avatar", "is_admin", "is_moderator",
             "last_seen_at")
    return stmt.on_conflict_do_update(
        index_elements=[users.c.tenant_id, users.c.kind, users.c.external_id],
        set_={name: stmt.excluded[name] for name in fresh},
    )


# Built once per dialect: every write remembers its author (see event_log._APPEND).
_REMEMBER = {"sqlite": _remember_statement(sqlite_insert),
             "postgresql": _remember_statement(pg_insert)}


async def recipients(conn: Connection, tenant_id: str, user_ids: list[str]
                     ) -> dict[str, Recipient]:
    """The users among these who may get email now, by id: signed by the site (Secure SSO:
    an unsigned payload could name anyone's address), with an address that never bounced,
    and who did not turn email off."""
    if not user_ids:
        return {}
    c = users.c
    bounced = exists().where(email_bounces.c.tenant_id == c.tenant_id,
                             email_bounces.c.address == func.lower(c.email))
    rows = await conn.execute(select(users).where(
        c.tenant_id == tenant_id, c.kind == "sso", c.external_id.in_(user_ids),
        c.email.is_not(None), c.email != "", c.email_notifications.is_(True), ~bounced))
    return {r.external_id: Recipient(id=r.external_id, email=r.email,
                                     display_name=r.display_name, locale=r.locale,
                                     email_notifications=bool(r.email_notifications))
            for r in rows}


async def set_email_notifications(conn: Connection, tenant_id: str, user_id: str,
                                  wanted: bool) -> bool:
    """Turn a Secure SSO user's email on or off; False if no such user."""
    c = users.c
    result = await conn.execute(update(users).where(
        c.tenant_id == tenant_id, c.kind == "sso", c.external_id == user_id
    ).values(email_notifications=wanted))
    return bool(result.rowcount)


async def locale_of(conn: Connection, tenant_id: str, user_id: str) -> str | None:
    c = users.c
    row = (await conn.execute(select(c.locale).where(
        c.tenant_id == tenant_id, c.kind == "sso", c.external_id == user_id))).first()
    return row.locale if row else None


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped.lower()}%"


async def search(conn: Connection, tenant_id: str, starts_with: str, limit: int
                 ) -> list[KnownUser]:
    """Signed-in users of a tenant whose name starts with `starts_with` (any case), by name.
    Anonymous visitors are never listed: they are not who they say."""
    c = users.c
    query = select(users).where(c.tenant_id == tenant_id, c.kind.in_(SIGNED_IN_KINDS))
    if starts_with:
        query = query.where(func.lower(c.display_name).like(_like_prefix(starts_with),
                                                            escape="\\"))
    rows = await conn.execute(query.order_by(func.lower(c.display_name), c.external_id)
                              .limit(limit))
    return [_to_known(r) for r in rows]


async def known(conn: Connection, tenant_id: str, user_ids: list[str]) -> dict[str, KnownUser]:
    """Signed-in users of a tenant by id."""
    if not user_ids:
        return {}
    c = users.c
    rows = await conn.execute(select(users).where(
        c.tenant_id == tenant_id, c.kind.in_(SIGNED_IN_KINDS), c.external_id.in_(user_ids)))
    return {r.external_id: _to_known(r) for r in rows}


def _to_known(row: Any) -> KnownUser:
    return KnownUser(id=row.external_id, kind=row.kind, display_name=row.display_name,
                     avatar=row.avatar, email=row.email)
