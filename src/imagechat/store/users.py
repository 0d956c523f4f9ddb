"""User rows: who wrote what, kept current from the latest SSO payload."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.actor import Actor
from imagechat.domain.ids import new_id
from imagechat.store.database import Connection
from imagechat.store.tables import users


async def remember(conn: Connection, actor: Actor, now_ms: int) -> None:
    """Record (or refresh) the acting user. Backend calls have no user to remember."""
    if actor.user_id is not None:
        kind, external_id = ("sso" if actor.verified else "simple"), actor.user_id
    elif actor.anon_user_id is not None:
        kind, external_id = "anon", actor.anon_user_id
    else:
        return
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    await conn.execute(
        insert(users)
        .values(
            id=new_id(), tenant_id=actor.tenant_id, kind=kind, external_id=external_id,
            display_name=actor.display_name, email=actor.email, avatar=actor.avatar,
            is_admin=actor.is_admin, is_moderator=actor.is_moderator,
            created_at=now_ms, last_seen_at=now_ms,
        )
        .on_conflict_do_nothing()
    )
    await conn.execute(
        update(users)
        .where(users.c.tenant_id == actor.tenant_id, users.c.kind == kind,
               users.c.external_id == external_id)
        .values(display_name=actor.display_name, email=actor.email, avatar=actor.avatar,
                is_admin=actor.is_admin, is_moderator=actor.is_moderator, last_seen_at=now_ms)
    )

