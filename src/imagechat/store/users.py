"""User rows: who wrote what, kept current from the latest SSO payload."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.actor import Actor
from imagechat.domain.ids import new_id
from imagechat.store.database import Connection
from imagechat.store.tables import users


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
        "display_name": actor.display_name, "email": actor.email, "avatar": actor.avatar,
        "is_admin": actor.is_admin, "is_moderator": actor.is_moderator,
        "created_at": now_ms, "last_seen_at": now_ms,
    })


def _remember_statement(insert: Any) -> Any:
    # Insert, or refresh what the latest SSO payload says: one statement either way.
    stmt = insert(users)
    fresh = ("display_name", "email", "avatar", "is_admin", "is_moderator", "last_seen_at")
    return stmt.on_conflict_do_update(
        index_elements=[users.c.tenant_id, users.c.kind, users.c.external_id],
        set_={name: stmt.excluded[name] for name in fresh},
    )


# Built once per dialect: every write remembers its author (see event_log._APPEND).
_REMEMBER = {"sqlite": _remember_statement(sqlite_insert),
             "postgresql": _remember_statement(pg_insert)}

