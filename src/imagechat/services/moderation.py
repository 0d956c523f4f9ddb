"""Moderation: lock an image, ban and unban visitors, and the log of who did what.

Deletions of other people's content by moderators go through the ordinary delete use
cases, which call `record_action` so they land in the same log.
"""

from __future__ import annotations

from typing import Any

from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, Conflict, Forbidden, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.ids import new_id
from imagechat.domain.models import Ban, ModerationEntry, Tenant
from imagechat.services.recorder import Writer
from imagechat.store import channels, moderation
from imagechat.store.database import Connection

MAX_REASON_CHARS = 500
MAX_LOG_PAGE = 500


def actor_label(actor: Actor) -> str:
    """How the log names who acted."""
    if actor.is_backend:
        return "site backend (API secret)"
    who = actor.user_id or actor.anon_user_id or "unknown"
    if actor.display_name and actor.display_name != who:
        return f"{actor.display_name} ({who})"[:200]
    return who[:200]


def require_moderator(actor: Actor) -> None:
    if not actor.can_moderate:
        raise Forbidden("Only moderators and admins may do this.", "not-moderator")


def acts_as_moderator(actor: Actor, owner_user_id: str | None) -> bool:
    """True when a change to someone's content is a moderation act, not the author's own."""
    if not actor.can_moderate:
        return False
    return actor.is_backend or actor.user_id is None or actor.user_id != owner_user_id


async def record_action(
    conn: Connection, tenant_id: str, actor: Actor, action: str, target: str,
    now_ms: int, detail: str = "",
) -> None:
    await moderation.append(conn, ModerationEntry(
        id=new_id(), tenant_id=tenant_id, actor=actor_label(actor), action=action,
        target=target[:1000], detail=detail, created_at=now_ms))


def _subject(user_id: Any, anon_user_id: Any) -> tuple[str | None, str | None]:
    # User ids are whatever the site's SSO says (any text up to the id bound), anonymous
    # ids follow the id rules of the widget.
    user = rules.optional_text(user_id, "userId", limits.MAX_ID_CHARS)
    anon = rules.optional_id(anon_user_id, "anonUserId")
    if (user is None) == (anon is None):
        raise BadInput("Name exactly one visitor: a userId or an anonUserId.",
                         "ban-subject-invalid")
    return user, anon


class ModerationService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.db = writer.db

    async def set_locked(
        self, tenant: Tenant, actor: Actor, raw_url_id: Any, locked: Any,
        broadcast_id: str | None = None,
    ) -> None:
        """Make an image read-only for everyone but moderators, or writable again.

        Open widgets learn it from the `image-locked` event, which is logged like any
        other change so reconnecting clients replay it.
        """
        require_moderator(actor)
        url_id = rules.clean_url_id(raw_url_id)
        if not isinstance(locked, bool):
            raise BadInput("`locked` must be true or false.", "locked-invalid")
        async with self.writer.transaction() as rec:
            position = await channels.position(rec.conn, tenant.id, url_id)
            if position is not None and position.locked == locked:
                return
            await channels.set_locked(rec.conn, tenant.id, url_id, locked, rec.now_ms)
            rec.record(tenant.id, url_id, EventType.IMAGE_LOCKED, broadcast_id,
                       {"locked": locked})
            await record_action(rec.conn, tenant.id, actor, "lock" if locked else "unlock",
                                url_id, rec.now_ms)

    async def ban(
        self, tenant: Tenant, actor: Actor, *, user_id: Any = None, anon_user_id: Any = None,
        reason: Any = "",
    ) -> Ban:
        require_moderator(actor)
        user, anon = _subject(user_id, anon_user_id)
        why = rules.optional_text(reason, "reason", MAX_REASON_CHARS) or ""
        subject = moderation.ban_subject(user, anon)
        async with self.writer.transaction() as rec:
            if await moderation.find_ban(rec.conn, tenant.id, subject) is not None:
                raise Conflict("This visitor is already banned.", "already-banned")
            await moderation.insert_ban(rec.conn, tenant.id, subject, why, actor_label(actor),
                                        rec.now_ms)
            await record_action(rec.conn, tenant.id, actor, "ban", subject, rec.now_ms, why)
            ban = await moderation.find_ban(rec.conn, tenant.id, subject)
        assert ban is not None
        return ban

    async def unban(
        self, tenant: Tenant, actor: Actor, *, user_id: Any = None, anon_user_id: Any = None
    ) -> None:
        require_moderator(actor)
        user, anon = _subject(user_id, anon_user_id)
        subject = moderation.ban_subject(user, anon)
        async with self.writer.transaction() as rec:
            if not await moderation.delete_ban(rec.conn, tenant.id, subject):
                raise NotFound("This visitor is not banned.", "ban-not-found")
            await record_action(rec.conn, tenant.id, actor, "unban", subject, rec.now_ms)

    async def list_bans(self, tenant: Tenant, limit: int = MAX_LOG_PAGE) -> list[Ban]:
        async with self.db.read() as conn:
            return await moderation.list_bans(conn, tenant.id, min(limit, MAX_LOG_PAGE))

    async def log(
        self, tenant: Tenant, *, limit: int = 100, before_ms: int | None = None
    ) -> list[ModerationEntry]:
        async with self.db.read() as conn:
            return await moderation.entries(conn, tenant.id, max(1, min(limit, MAX_LOG_PAGE)),
                                            before_ms)

