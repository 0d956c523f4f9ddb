"""The webhook events of the use cases, recorded in their write transactions.

Each event's `data` holds the objects it concerns in the widget API's shapes
(imagechat.wire.present): `chat` for a conversation, `comment` for a comment (with `chat`,
its conversation, when it is in one's thread), and for `mention` and `reaction` what was
done. `EventRecorder.webhook` turns each into one delivery per endpoint that listens.
"""

from __future__ import annotations

from typing import Any

from imagechat.domain.actor import Actor
from imagechat.domain.models import Comment, Conversation, Mention, Positioned
from imagechat.services.recorder import EventRecorder
from imagechat.services.threads import ThreadChannel
from imagechat.wire.present import comment_json, conversation_detail_json


def conversation_event(rec: EventRecorder, event_type: str,
                       c: Conversation | Positioned) -> None:
    tenant_id = c.conversation.tenant_id if isinstance(c, Positioned) else c.tenant_id
    rec.webhook(tenant_id, event_type, {"chat": conversation_detail_json(c)})


def comment_event(rec: EventRecorder, event_type: str, comment: Comment, place: ThreadChannel,
                  *, reactions: dict[str, int] | None = None, **extra: Any) -> None:
    data: dict[str, Any] = {"comment": comment_json(comment, place.chat_id, reactions=reactions)}
    if place.conversation is not None:
        data["chat"] = conversation_detail_json(place.conversation)
    rec.webhook(comment.tenant_id, event_type, {**data, **extra})


def mention_events(rec: EventRecorder, comment: Comment, place: ThreadChannel,
                   mentioned: tuple[Mention, ...] | list[Mention]) -> None:
    """One `mention` per mentioned user (a comment may tag one user twice)."""
    seen: set[str] = set()
    for mention in mentioned:
        if mention.id not in seen:
            seen.add(mention.id)
            comment_event(rec, "mention", comment, place,
                          mention={"userId": mention.id, "tag": mention.tag})


def reaction_event(rec: EventRecorder, comment: Comment, place: ThreadChannel, actor: Actor,
                   emoji: str, on: bool, counts: dict[str, int]) -> None:
    comment_event(rec, "reaction", comment, place, reactions=counts, reaction={
        "emoji": emoji, "on": on, "userId": actor.user_id, "anonUserId": actor.anon_user_id})
