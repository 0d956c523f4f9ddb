"""Writing a new comment into a thread: everything that one comment sets off, in the
caller's write transaction.

Its HTML gets its mentions; it is stored and counted on its page; `new-comment` is
recorded on the thread's channel; its author follows the thread; and whoever should hear
of it (mentioned users, the parent's author, the thread's followers) gets a notification.
The caller counts it in its conversation and in usage, where that applies.
"""

from __future__ import annotations

from dataclasses import replace

from imagechat.domain.actor import Actor
from imagechat.domain.events import EventType
from imagechat.domain.models import Comment
from imagechat.services import mentions
from imagechat.services.comment_drafts import CommentDraft, build_comment
from imagechat.services.notifications import follow_on_write, notify_comment
from imagechat.services.recorder import EventRecorder
from imagechat.services.threads import ThreadChannel
from imagechat.services.webhook_events import comment_event, mention_events
from imagechat.store import comments as comment_rows
from imagechat.store import pages
from imagechat.wire.present import comment_json


async def write_comment(
    rec: EventRecorder, draft: CommentDraft, actor: Actor, place: ThreadChannel,
    edit_key: str | None, *, title: str, parent: Comment | None, broadcast_id: str | None,
) -> Comment:
    built = build_comment(draft, actor, place, rec.now_ms, edit_key)
    html, found = await mentions.resolve(rec.conn, built.tenant_id, built.comment_html,
                                         draft.clean_mentions)
    comment = replace(built, comment_html=html, mentions=found)
    await comment_rows.insert_comment(rec.conn, comment)
    await pages.count_comments(rec.conn, comment.tenant_id, comment.url_id, rec.now_ms,
                               comments=1, roots=1 if comment.parent_id is None else 0,
                               url=comment.url, title=title)
    rec.record(comment.tenant_id, place.channel, EventType.NEW_COMMENT, broadcast_id,
               {"comment": comment_json(comment, place.chat_id, reactions={})})
    comment_event(rec, "comment.created", comment, place)
    mention_events(rec, comment, place, comment.mentions)
    await follow_on_write(rec, actor, comment.url_id, url=comment.url, title=title)
    await notify_comment(rec, comment, place, actor, parent, title)
    return comment
