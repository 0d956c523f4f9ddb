"""Reactions on comments: a small fixed set of emoji, one of each per visitor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.models import Comment, Tenant
from imagechat.services.recorder import Writer
from imagechat.services.threads import ThreadChannel, locate
from imagechat.services.votes import voter_key
from imagechat.services.webhook_events import reaction_event
from imagechat.services.write_guard import require_writable
from imagechat.store import comments as comment_rows
from imagechat.store import reactions
from imagechat.store.database import Connection
from imagechat.wire.present import comment_json

EMOJI = ("👍", "❤️", "🎉", "👀", "✅")
# Keyboards send the heart with or without its emoji presentation selector.
_VARIATION_SELECTOR = "\ufe0f"
_BY_BARE = {e.replace(_VARIATION_SELECTOR, ""): e for e in EMOJI}


def require_emoji(value: Any) -> str:
    if isinstance(value, str) and value.replace(_VARIATION_SELECTOR, "") in _BY_BARE:
        return _BY_BARE[value.replace(_VARIATION_SELECTOR, "")]
    raise BadInput(f"`emoji` must be one of {' '.join(EMOJI)}.", "invalid-emoji")


@dataclass(frozen=True, slots=True)
class Reacted:
    comment: Comment
    thread: ThreadChannel
    counts: dict[str, int]
    mine: list[str]


class ReactionService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.db = writer.db

    async def set(self, tenant: Tenant, actor: Actor, comment_id: Any, emoji: Any, on: Any,
                  broadcast_id: str | None) -> Reacted:
        """Put (`on`) or take back one emoji; doing what is already done changes nothing."""
        require_writer(tenant, actor)
        comment_id = rules.require_id(comment_id, "commentId")
        chosen = require_emoji(emoji)
        if not isinstance(on, bool):
            raise BadInput("`on` must be true or false.", "invalid-field")
        key = voter_key(actor)
        async with self.writer.transaction() as rec:
            # Held until commit: a concurrent reaction to this comment waits, so the counts
            # each event carries are the counts after it.
            comment = await comment_rows.lock_comment(rec.conn, tenant.id, comment_id)
            if comment is None:
                raise NotFound("No comment with that id.", "comment-not-found")
            place = await locate(rec.conn, tenant.id, comment.url_id)
            await require_writable(rec.conn, tenant.id, place.channel, actor)
            if on:
                changed = await reactions.put(rec.conn, tenant.id, comment.id, chosen, key,
                                              rec.now_ms)
            else:
                changed = await reactions.take(rec.conn, tenant.id, comment.id, chosen, key)
            counts, mine = await of_comments(rec.conn, tenant.id, [comment.id], key)
            reacted = Reacted(comment, place, counts.get(comment.id, {}),
                              mine.get(comment.id, []))
            if changed:
                rec.record(tenant.id, place.channel, EventType.UPDATED_COMMENT, broadcast_id,
                           {"comment": comment_json(comment, place.chat_id,
                                                    reactions=reacted.counts)})
                reaction_event(rec, comment, place, actor, chosen, on, reacted.counts)
        return reacted


async def of_comments(
    conn: Connection, tenant_id: str, comment_ids: list[str], key: str | None
) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """Counts per comment, and the emoji this visitor (`key`) put on each."""
    counts = await reactions.counts(conn, tenant_id, comment_ids)
    mine = await reactions.mine(conn, tenant_id, comment_ids, key) if key else {}
    return counts, mine
