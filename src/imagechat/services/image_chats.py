"""Image chats (markers): list, create (with the first message), delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import NotFound
from imagechat.domain.events import EventType
from imagechat.domain.ids import hash_key, new_edit_key, new_id
from imagechat.domain.models import ChannelPosition, Comment, Conversation, Tenant
from imagechat.domain.permissions import require_change
from imagechat.services.comment_drafts import CommentDraft, build_comment
from imagechat.services.moderation import acts_as_moderator, record_action
from imagechat.services.recorder import EventRecorder, Writer
from imagechat.services.write_guard import require_writable
from imagechat.store import channels, conversations, usage
from imagechat.store import comments as comment_rows
from imagechat.store import users as user_rows
from imagechat.wire.present import chat_json, comment_json


@dataclass(frozen=True, slots=True)
class ImageChatList:
    url_id: str
    conversations: list[Conversation]
    position: ChannelPosition


@dataclass(frozen=True, slots=True)
class NewImageChat:
    chat: Conversation
    comment: Comment | None
    # Handed once to an anonymous author; its hash is all we keep.
    edit_key: str | None


@dataclass(frozen=True, slots=True)
class NewImageChatInput:
    url_id: Any
    x: Any
    y: Any
    window_url_id: Any = None
    page_title: Any = None
    src: Any = None
    first_comment: CommentDraft | None = None


class ImageChatService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.db = writer.db

    async def list(self, tenant: Tenant, raw_url_id: Any) -> ImageChatList:
        url_id = rules.clean_url_id(raw_url_id)
        async with self.db.read() as conn:
            # Position first, then rows: the rows reflect at least that position, and
            # clients apply later events idempotently, so nothing falls in between.
            position = await channels.position(conn, tenant.id, url_id)
            rows = await conversations.list_for_image(conn, tenant.id, url_id)
        return ImageChatList(
            url_id=url_id, conversations=rows,
            position=position or ChannelPosition(seq=0, epoch="", locked=False),
        )

    async def create(
        self, tenant: Tenant, actor: Actor, data: NewImageChatInput, broadcast_id: str | None
    ) -> NewImageChat:
        require_writer(tenant, actor)
        url_id = rules.clean_url_id(data.url_id)
        x = rules.require_percentage(data.x, "x")
        y = rules.require_percentage(data.y, "y")
        page_url = rules.optional_text(data.window_url_id, "windowUrlId", limits.MAX_URL_CHARS)
        page_title = rules.optional_text(data.page_title, "pageTitle", limits.MAX_PAGE_TITLE_CHARS)
        src = rules.optional_text(data.src, "src", limits.MAX_URL_CHARS)
        draft = data.first_comment
        if draft is not None:
            draft.validate(actor)
        edit_key = None if actor.is_signed_in or actor.is_backend else new_edit_key()
        chat_id = new_id()
        async with self.writer.transaction() as rec:
            conn = rec.conn
            await require_writable(conn, tenant.id, url_id, actor)
            await user_rows.remember(conn, actor, rec.now_ms)
            chat = Conversation(
                id=chat_id, tenant_id=tenant.id, url_id=url_id, window_url_id=f"chat-{chat_id}",
                page_url=page_url, page_title=page_title, src=src, x=x, y=y,
                comment_count=1 if draft else 0, resolved=False, user_id=actor.user_id,
                anon_user_id=actor.anon_user_id,
                commenter_name=draft.name_for(actor) if draft else actor.display_name,
                edit_key_hash=hash_key(edit_key) if edit_key else None,
                created_at=rec.now_ms, updated_at=rec.now_ms,
            )
            await conversations.insert_conversation(conn, chat)
            rec.record(tenant.id, url_id, EventType.NEW_IMAGE_CHAT, broadcast_id,
                       {"chat": chat_json(chat)})
            comment = None
            if draft is not None:
                comment = build_comment(draft, actor, chat, rec.now_ms, edit_key)
                await comment_rows.insert_comment(conn, comment)
                rec.record(tenant.id, url_id, EventType.NEW_COMMENT, broadcast_id,
                           {"comment": comment_json(comment)})
            await usage.add(conn, tenant.id, rec.now_ms, conversation_create_count=1,
                            comment_create_count=1 if comment else 0)
        return NewImageChat(chat=chat, comment=comment, edit_key=edit_key)

    async def get(self, tenant: Tenant, chat_id: Any) -> Conversation:
        chat_id = rules.require_id(chat_id, "chatId")
        async with self.db.read() as conn:
            chat = await conversations.get_conversation(conn, tenant.id, chat_id)
        if chat is None:
            raise NotFound("No image chat with that id.", "chat-not-found")
        return chat

    async def delete(
        self, tenant: Tenant, actor: Actor, chat_id: Any, broadcast_id: str | None,
        edit_key: str | None,
    ) -> Conversation:
        chat_id = rules.require_id(chat_id, "chatId")
        async with self.writer.transaction() as rec:
            chat = await conversations.get_conversation(rec.conn, tenant.id, chat_id)
            if chat is None:
                raise NotFound("No image chat with that id.", "chat-not-found")
            require_change(actor, "image chat", owner_user_id=chat.user_id,
                           edit_key_hash=chat.edit_key_hash, edit_key=edit_key)
            await require_writable(rec.conn, tenant.id, chat.url_id, actor)
            await remove_chat(rec, chat, broadcast_id)
            if acts_as_moderator(actor, chat.user_id):
                await record_action(rec.conn, tenant.id, actor, "delete-conversation",
                                    chat.id, rec.now_ms, f"on {chat.url_id}")
        return chat


async def remove_chat(rec: EventRecorder, chat: Conversation, broadcast_id: str | None) -> None:
    """Delete a marker and its thread (comments and votes go by cascade)."""
    thread = await comment_rows.for_conversation(rec.conn, chat.tenant_id, chat.id)
    await comment_rows.delete_comments(rec.conn, chat.tenant_id, [c.id for c in thread])
    await conversations.delete_conversation(rec.conn, chat.tenant_id, chat.id)
    rec.record(chat.tenant_id, chat.url_id, EventType.DELETED_IMAGE_CHAT, broadcast_id,
               {"chat": chat_json(chat)})
