"""Comments inside a conversation: list (paged), post, edit, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.ids import new_edit_key
from imagechat.domain.models import Comment, Conversation, Tenant
from imagechat.domain.permissions import require_change
from imagechat.domain.text import render_comment_html
from imagechat.services.comment_drafts import CommentDraft, build_comment
from imagechat.services.image_chats import remove_chat
from imagechat.services.moderation import acts_as_moderator, record_action
from imagechat.services.recorder import EventRecorder, Writer
from imagechat.services.write_guard import require_writable
from imagechat.store import comments as comment_rows
from imagechat.store import conversations, usage
from imagechat.store import users as user_rows
from imagechat.wire.present import chat_json, comment_json


@dataclass(frozen=True, slots=True)
class CommentPage:
    comments: list[Comment]
    page: int
    total: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class PostedComment:
    comment: Comment
    edit_key: str | None


class CommentService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.db = writer.db

    async def page(self, tenant: Tenant, url_id: Any, page: Any, page_size: int) -> CommentPage:
        thread = rules.require_text(url_id, "urlId", limits.MAX_URL_ID_CHARS).strip()
        number = rules.page_number(page)
        size = max(1, min(page_size, limits.MAX_PAGE_SIZE))
        async with self.db.read() as conn:
            rows = await comment_rows.page_for_url_id(
                conn, tenant.id, thread, offset=number * size, limit=size + 1
            )
            total = await comment_rows.count_for_url_id(conn, tenant.id, thread)
        return CommentPage(comments=rows[:size], page=number, total=total,
                           has_more=len(rows) > size)

    async def get(self, tenant: Tenant, comment_id: Any) -> Comment:
        comment_id = rules.require_id(comment_id, "commentId")
        async with self.db.read() as conn:
            comment = await comment_rows.get_comment(conn, tenant.id, comment_id)
        if comment is None:
            raise NotFound("No comment with that id.", "comment-not-found")
        return comment

    async def post(
        self, tenant: Tenant, actor: Actor, url_id: Any, draft: CommentDraft,
        broadcast_id: str | None,
    ) -> PostedComment:
        require_writer(tenant, actor)
        thread = rules.require_text(url_id, "urlId", limits.MAX_URL_ID_CHARS).strip()
        draft.validate(actor)
        edit_key = None if actor.is_signed_in or actor.is_backend else new_edit_key()
        async with self.writer.transaction() as rec:
            conn = rec.conn
            chat = await conversations.by_window_url_id(conn, tenant.id, thread)
            if chat is None:
                raise NotFound("No image chat has this urlId; create the chat first.",
                               "chat-not-found")
            await require_writable(conn, tenant.id, chat.url_id, actor)
            if draft.clean_parent_id is not None:
                parent = await comment_rows.get_comment(conn, tenant.id, draft.clean_parent_id)
                if parent is None or parent.conversation_id != chat.id:
                    raise BadInput("`parentId` is not a comment of this conversation.",
                                   "invalid-parent")
            await user_rows.remember(conn, actor, rec.now_ms)
            comment = build_comment(draft, actor, chat, rec.now_ms, edit_key)
            await comment_rows.insert_comment(conn, comment)
            rec.record(tenant.id, chat.url_id, EventType.NEW_COMMENT, broadcast_id,
                       {"comment": comment_json(comment)})
            updated = await conversations.add_to_comment_count(conn, tenant.id, chat.id, 1,
                                                               rec.now_ms)
            rec.record(tenant.id, chat.url_id, EventType.IMAGE_CHAT_UPDATED, broadcast_id,
                       {"chat": chat_json(updated)})
            await usage.add(conn, tenant.id, rec.now_ms, comment_create_count=1)
        return PostedComment(comment=comment, edit_key=edit_key)

    async def update_text(
        self, tenant: Tenant, actor: Actor, comment_id: Any, text: Any, edit_key: str | None,
        broadcast_id: str | None,
    ) -> Comment:
        comment_id = rules.require_id(comment_id, "commentId")
        new_text = rules.require_text(text, "comment", limits.MAX_COMMENT_CHARS)
        async with self.writer.transaction() as rec:
            comment, chat = await _load(rec, tenant.id, comment_id)
            require_change(actor, "comment", owner_user_id=comment.user_id,
                           edit_key_hash=comment.edit_key_hash, edit_key=edit_key)
            await require_writable(rec.conn, tenant.id, chat.url_id, actor)
            html = render_comment_html(new_text)
            await comment_rows.update_text(rec.conn, tenant.id, comment.id, new_text, html,
                                           rec.now_ms)
            updated = await comment_rows.get_comment(rec.conn, tenant.id, comment.id)
            assert updated is not None
            rec.record(tenant.id, chat.url_id, EventType.UPDATED_COMMENT, broadcast_id,
                       {"comment": comment_json(updated)})
        return updated

    async def delete(
        self, tenant: Tenant, actor: Actor, comment_id: Any, edit_key: str | None,
        broadcast_id: str | None,
    ) -> Comment:
        """Delete a comment and its replies; the marker goes with its last message."""
        comment_id = rules.require_id(comment_id, "commentId")
        async with self.writer.transaction() as rec:
            comment, chat = await _load(rec, tenant.id, comment_id)
            require_change(actor, "comment", owner_user_id=comment.user_id,
                           edit_key_hash=comment.edit_key_hash, edit_key=edit_key)
            await require_writable(rec.conn, tenant.id, chat.url_id, actor)
            if acts_as_moderator(actor, comment.user_id):
                await record_action(rec.conn, tenant.id, actor, "delete-comment", comment.id,
                                    rec.now_ms, f"by {comment.commenter_name} on {chat.url_id}")
            thread = await comment_rows.for_conversation(rec.conn, tenant.id, chat.id)
            doomed = _subtree(thread, comment.id)
            if len(doomed) == len(thread):
                await remove_chat(rec, chat, broadcast_id)
                return comment
            await comment_rows.delete_comments(rec.conn, tenant.id, [c.id for c in doomed])
            for gone in doomed:
                rec.record(tenant.id, chat.url_id, EventType.DELETED_COMMENT, broadcast_id,
                           {"comment": comment_json(gone)})
            updated = await conversations.add_to_comment_count(
                rec.conn, tenant.id, chat.id, -len(doomed), rec.now_ms
            )
            rec.record(tenant.id, chat.url_id, EventType.IMAGE_CHAT_UPDATED, broadcast_id,
                       {"chat": chat_json(updated)})
        return comment


async def _load(
    rec: EventRecorder, tenant_id: str, comment_id: str
) -> tuple[Comment, Conversation]:
    comment = await comment_rows.get_comment(rec.conn, tenant_id, comment_id)
    if comment is None:
        raise NotFound("No comment with that id.", "comment-not-found")
    chat = await conversations.get_conversation(rec.conn, tenant_id, comment.conversation_id)
    if chat is None:  # only if the database was edited by hand
        raise NotFound("The comment's image chat no longer exists.", "chat-not-found")
    return comment, chat


def _subtree(thread: list[Comment], root_id: str) -> list[Comment]:
    """The comment and every reply below it, parents before children."""
    by_parent: dict[str | None, list[Comment]] = {}
    for c in thread:
        by_parent.setdefault(c.parent_id, []).append(c)
    root = next(c for c in thread if c.id == root_id)
    found, frontier = [root], [root]
    while frontier:
        children = [child for parent in frontier for child in by_parent.get(parent.id, [])]
        found.extend(children)
        frontier = children
    return found
