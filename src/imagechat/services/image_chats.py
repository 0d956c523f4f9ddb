"""Conversations on images ("image chats" on the wire): list (on a version of the image),
create (a point or a region, over a thread or with its first comment), move, resolve,
delete."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, Conflict, Forbidden, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.ids import hash_key, new_edit_key, new_id
from imagechat.domain.models import ChannelPosition, Comment, Conversation, Positioned, Tenant
from imagechat.domain.permissions import may_change, require_change
from imagechat.domain.regions import Place, require_place
from imagechat.domain.threads import window_url_id
from imagechat.services import positions
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.image_versions import ImageVersionService, require_version
from imagechat.services.moderation import acts_as_moderator, record_action
from imagechat.services.notifications import follow_on_write, notify_resolution
from imagechat.services.posting import write_comment
from imagechat.services.recorder import EventRecorder, Writer
from imagechat.services.threads import ThreadChannel, thread_url_id
from imagechat.services.webhook_events import conversation_event
from imagechat.services.write_guard import require_writable
from imagechat.store import channels, conversations, image_versions, pages, usage
from imagechat.store import comments as comment_rows
from imagechat.store import users as user_rows
from imagechat.store.database import Connection
from imagechat.wire.present import comment_json, conversation_json


@dataclass(frozen=True, slots=True)
class ImageChatList:
    url_id: str
    conversations: list[Positioned]
    position: ChannelPosition
    # The version listed and the latest (None while the image has no versions).
    version: int | None = None
    latest_version: int | None = None


@dataclass(frozen=True, slots=True)
class NewImageChat:
    conversation: Conversation
    # The inline first comment, when one was sent along.
    comment: Comment | None
    # Handed once to an anonymous author; its hash is all we keep.
    edit_key: str | None
    # The thread already had its conversation (another tab created it first): this is it.
    existed: bool = False
    # It on the latest version of its image.
    placed: Positioned | None = None
    # Its `src` may be a version the server has not seen: look at it after the answer.
    look: bool = False


@dataclass(frozen=True, slots=True)
class NewImageChatInput:
    url_id: Any
    x: Any
    y: Any
    window_url_id: Any = None
    page_title: Any = None
    src: Any = None
    # The page the image is on.
    url: Any = None
    created_from_comment_id: Any = None
    first_comment: CommentDraft | None = None
    # `{"shape": "rect", x, y, w, h}`: a region rather than a point.
    region: Any = None
    # The version of the image the visitor placed it on: must be the latest.
    version: Any = None


@dataclass(frozen=True, slots=True)
class _ValidConversation:
    url_id: str
    window_url_id: str
    x: float
    y: float
    page_url: str | None
    page_title: str | None
    src: str | None
    created_from: str | None
    place: Place
    version: int | None


# Two tabs creating a conversation over one thread at the same moment: the loser's insert
# hits the unique thread key, and its second try finds the winner's conversation.
_CREATE_TRIES = 2


class ImageChatService:
    def __init__(self, writer: Writer, versions: ImageVersionService | None = None) -> None:
        self.writer = writer
        self.db = writer.db
        self.versions = versions

    async def list(self, tenant: Tenant, raw_url_id: Any, raw_version: Any = None
                   ) -> ImageChatList:
        url_id = rules.clean_url_id(raw_url_id)
        wanted = None if raw_version in (None, "") else require_version(raw_version)
        async with self.db.read() as conn:
            # Position first, then rows: the rows reflect at least that position, and
            # clients apply later events idempotently, so nothing falls in between.
            position = await channels.position(conn, tenant.id, url_id)
            rows = await conversations.list_for_image(conn, tenant.id, url_id)
            shown, latest, placed = await positions.place_all(conn, tenant.id, url_id, rows,
                                                              wanted)
        return ImageChatList(
            url_id=url_id, conversations=placed,
            position=position or ChannelPosition(seq=0, epoch="", locked=False),
            version=shown, latest_version=latest,
        )

    async def page(
        self, tenant: Tenant, url_id: Any, *, limit: int, offset: int
    ) -> builtins.list[Conversation]:
        """Conversations of one image, or of the whole tenant, oldest first."""
        async with self.db.read() as conn:
            if url_id is None:
                return await conversations.list_for_tenant(conn, tenant.id, limit, offset)
            return await conversations.list_for_image(conn, tenant.id,
                                                      rules.clean_url_id(url_id), limit, offset)

    async def create(
        self, tenant: Tenant, actor: Actor, data: NewImageChatInput, broadcast_id: str | None
    ) -> NewImageChat:
        require_writer(tenant, actor)
        valid = _validate(data)
        draft = data.first_comment
        if draft is not None:
            draft.validate(actor)
        edit_key = None if actor.is_signed_in or actor.is_backend else new_edit_key()
        for attempt in range(1, _CREATE_TRIES + 1):
            try:
                created = await self._create(tenant, actor, valid, draft, edit_key,
                                             broadcast_id)
            except Conflict as exc:
                if exc.code != "write-conflict" or attempt == _CREATE_TRIES:
                    raise
            else:
                if valid.src is not None and self.versions is not None and created.look:
                    # Which version is this src? Fetched after the answer has gone.
                    self.versions.seen_in_background(tenant, valid.url_id, valid.src,
                                                     valid.page_url)
                return created
        raise AssertionError("unreachable")

    async def _create(
        self, tenant: Tenant, actor: Actor, valid: _ValidConversation, draft: CommentDraft | None,
        edit_key: str | None, broadcast_id: str | None,
    ) -> NewImageChat:
        async with self.writer.transaction() as rec:
            conn = rec.conn
            await require_writable(conn, tenant.id, valid.url_id, actor)
            existing = await conversations.by_window_url_id(conn, tenant.id,
                                                            valid.window_url_id)
            if existing is not None:
                return await _join_existing(rec, existing, valid, actor, draft, edit_key,
                                            broadcast_id)
            first = await _created_from(conn, tenant.id, valid)
            version, look = await _version_for(rec, tenant.id, valid)
            await user_rows.remember(conn, actor, rec.now_ms)
            earlier = await comment_rows.count_for_url_id(conn, tenant.id, valid.window_url_id)
            conversation = Conversation(
                id=new_id(), tenant_id=tenant.id, url_id=valid.url_id,
                window_url_id=valid.window_url_id, page_url=valid.page_url,
                page_title=valid.page_title, src=valid.src, x=valid.x, y=valid.y,
                region_w=valid.place.w, region_h=valid.place.h, version=version,
                comment_count=earlier + (1 if draft else 0), resolved=False,
                user_id=actor.user_id, anon_user_id=actor.anon_user_id,
                commenter_name=(draft.name_for(actor) if draft
                                else first.commenter_name if first else actor.display_name),
                edit_key_hash=hash_key(edit_key) if edit_key else None,
                created_at=rec.now_ms, updated_at=rec.now_ms,
            )
            await conversations.insert_conversation(conn, conversation)
            rec.record(tenant.id, conversation.url_id, EventType.NEW_IMAGE_CHAT, broadcast_id,
                       {"chat": conversation_json(conversation)})
            conversation_event(rec, "image-chat.created", conversation)
            place = ThreadChannel(url_id=conversation.window_url_id, conversation=conversation)
            if first is not None:
                # Its viewers never saw it: it was posted to the thread before the thread
                # was on their image's channel.
                rec.record(tenant.id, conversation.url_id, EventType.NEW_COMMENT, broadcast_id,
                           {"comment": comment_json(first, conversation.id)})
            comment = None
            if draft is not None:
                comment = await write_comment(rec, draft, actor, place, edit_key,
                                              title=valid.page_title or "", parent=None,
                                              broadcast_id=broadcast_id)
            else:
                # Creating the conversation is writing in its thread: it follows it.
                await follow_on_write(rec, actor, conversation.window_url_id,
                                      url=conversation.page_url or "",
                                      title=conversation.page_title or "")
            await usage.add(conn, tenant.id, rec.now_ms, conversation_create_count=1,
                            comment_create_count=1 if comment else 0)
        return NewImageChat(conversation=conversation, comment=comment, edit_key=edit_key,
                            placed=positions.origin(conversation), look=look)

    async def move(
        self, tenant: Tenant, actor: Actor, chat_id: Any, data: MoveInput,
        broadcast_id: str | None, edit_key: str | None,
    ) -> Positioned:
        """Move a conversation's point or region on one version of its image (default: the
        latest): its author, moderators and admins. On a later version than its own, this
        is where a person put it (`carry: "moved"`), e.g. a `lost` conversation dragged
        into place."""
        chat_id = rules.require_id(chat_id, "chatId")
        wanted = None if data.version in (None, "") else require_version(data.version)
        async with self.writer.transaction() as rec:
            conversation = await _conversation_to_change(rec.conn, tenant, actor, chat_id, edit_key)
            latest = await image_versions.latest_number(rec.conn, tenant.id, conversation.url_id)
            on = wanted if wanted is not None else latest
            if on is not None and (latest is None or on > latest
                                   or on < (conversation.version or 1)):
                raise NotFound("The conversation is not on that version of its image.",
                               "version-not-found")
            before = await positions.place(rec.conn, conversation, on)
            place = _moved_place(data, before)
            if on is None or on == (conversation.version or on):
                conversation = await conversations.set_place(
                    rec.conn, tenant.id, conversation.id, x=place.x, y=place.y, region_w=place.w,
                    region_h=place.h, now_ms=rec.now_ms)
                moved = positions.origin(conversation)
            else:
                await image_versions.put_position(rec.conn, tenant.id, conversation.url_id,
                    image_versions.Position(conversation.id, on, place.x, place.y, place.w, place.h,
                                            positions.MOVED), rec.now_ms)
                moved = Positioned(conversation=conversation, on_version=on, x=place.x, y=place.y,
                                   region_w=place.w, region_h=place.h, carry=positions.MOVED)
            rec.record(tenant.id, conversation.url_id, EventType.IMAGE_CHAT_UPDATED, broadcast_id,
                       {"chat": conversation_json(moved)})
            conversation_event(rec, "image-chat.updated", moved)
            if acts_as_moderator(actor, conversation.user_id):
                await record_action(rec.conn, tenant.id, actor, "move-conversation",
                                    conversation.id, rec.now_ms,
                                    f"on {conversation.url_id}, version {on or '-'}")
        return moved

    async def resolve(
        self, tenant: Tenant, actor: Actor, chat_id: Any, resolved: Any,
        broadcast_id: str | None, edit_key: str | None,
    ) -> Positioned:
        """Resolve or reopen a conversation. A reply never reopens it; this does."""
        chat_id = rules.require_id(chat_id, "chatId")
        if not isinstance(resolved, bool):
            raise BadInput("`resolved` must be true or false.", "invalid-field")
        async with self.writer.transaction() as rec:
            conversation = await conversations.get_conversation(rec.conn, tenant.id, chat_id)
            if conversation is None:
                raise NotFound("No image chat with that id.", "chat-not-found")
            require_resolver(tenant, actor, conversation, edit_key)
            await require_writable(rec.conn, tenant.id, conversation.url_id, actor)
            if conversation.resolved == resolved:
                # Already so: nothing to tell anyone.
                return await positions.place(rec.conn, conversation)
            updated = await conversations.set_resolved(
                rec.conn, tenant.id, conversation.id, resolved=resolved,
                by=resolver_name(actor, conversation)[:200], now_ms=rec.now_ms)
            placed = await positions.place(rec.conn, updated)
            rec.record(tenant.id, conversation.url_id, EventType.IMAGE_CHAT_UPDATED, broadcast_id,
                       {"chat": conversation_json(placed)})
            conversation_event(rec, "image-chat.resolved" if resolved else "image-chat.updated",
                               placed)
            await notify_resolution(rec, updated, actor, resolved)
        return placed

    async def get(self, tenant: Tenant, chat_id: Any) -> Conversation:
        chat_id = rules.require_id(chat_id, "chatId")
        async with self.db.read() as conn:
            conversation = await conversations.get_conversation(conn, tenant.id, chat_id)
        if conversation is None:
            raise NotFound("No image chat with that id.", "chat-not-found")
        return conversation

    async def delete(
        self, tenant: Tenant, actor: Actor, chat_id: Any, broadcast_id: str | None,
        edit_key: str | None,
    ) -> Conversation:
        chat_id = rules.require_id(chat_id, "chatId")
        async with self.writer.transaction() as rec:
            conversation = await _conversation_to_change(rec.conn, tenant, actor, chat_id, edit_key)
            await remove_conversation(rec, conversation, broadcast_id)
            if acts_as_moderator(actor, conversation.user_id):
                await record_action(rec.conn, tenant.id, actor, "delete-conversation",
                                    conversation.id, rec.now_ms, f"on {conversation.url_id}")
        return conversation


def resolver_name(actor: Actor, conversation: Conversation) -> str:
    """How a resolution names who made it (`resolvedBy`)."""
    if actor.display_name:
        return actor.display_name
    if actor.is_backend:
        return "The site"
    if actor.anon_user_id is not None and actor.anon_user_id == conversation.anon_user_id:
        return conversation.commenter_name or "Anonymous"
    return "Anonymous"


def require_resolver(tenant: Tenant, actor: Actor, conversation: Conversation,
                     edit_key: str | None) -> None:
    """The conversation's author, a moderator or an admin; every writer where the tenant
    lets visitors resolve."""
    if may_change(actor, owner_user_id=conversation.user_id,
                  edit_key_hash=conversation.edit_key_hash, edit_key=edit_key):
        return
    if tenant.visitors_resolve:
        require_writer(tenant, actor)
        return
    raise Forbidden("Only the conversation's author, a moderator or an admin may resolve or "
                    "reopen it.", "not-allowed-to-resolve")


async def _conversation_to_change(conn: Connection, tenant: Tenant, actor: Actor, chat_id: str,
                                  edit_key: str | None) -> Conversation:
    """The conversation a write changes (moves, deletes): it exists, the actor may change
    it (its author, by edit key or user; moderators; admins), and its image is writable."""
    conversation = await conversations.get_conversation(conn, tenant.id, chat_id)
    if conversation is None:
        raise NotFound("No image chat with that id.", "chat-not-found")
    require_change(actor, "image chat", owner_user_id=conversation.user_id,
                   edit_key_hash=conversation.edit_key_hash, edit_key=edit_key)
    await require_writable(conn, tenant.id, conversation.url_id, actor)
    return conversation


async def remove_conversation(rec: EventRecorder, conversation: Conversation,
                              broadcast_id: str | None) -> None:
    """Delete a conversation and its thread (the thread's votes go by cascade)."""
    tenant_id, window = conversation.tenant_id, conversation.window_url_id
    thread = await comment_rows.in_thread(rec.conn, tenant_id, window)
    await comment_rows.delete_comments(rec.conn, tenant_id, [c.id for c in thread])
    await pages.uncount_comments(rec.conn, tenant_id, window, rec.now_ms,
                                 comments=len(thread),
                                 roots=sum(1 for c in thread if c.parent_id is None))
    await conversations.delete_conversation(rec.conn, tenant_id, conversation.id)
    rec.record(tenant_id, conversation.url_id, EventType.DELETED_IMAGE_CHAT, broadcast_id,
               {"chat": conversation_json(conversation)})
    conversation_event(rec, "image-chat.deleted", conversation)


async def _join_existing(
    rec: EventRecorder, conversation: Conversation, valid: _ValidConversation, actor: Actor,
    draft: CommentDraft | None, edit_key: str | None, broadcast_id: str | None,
) -> NewImageChat:
    """The thread has its conversation already: hand it back, with the inline comment (if
    any) posted into its thread like a reply."""
    if conversation.url_id != valid.url_id:
        raise Conflict(f"The thread {valid.window_url_id!r} already belongs to conversation "
                       f"{conversation.id} on image {conversation.url_id!r}.", "chat-exists")
    if draft is None:
        return NewImageChat(conversation=conversation, comment=None, edit_key=None,
                            existed=True, placed=await positions.place(rec.conn, conversation))
    await user_rows.remember(rec.conn, actor, rec.now_ms)
    place = ThreadChannel(url_id=conversation.window_url_id, conversation=conversation)
    comment = await write_comment(rec, draft, actor, place, edit_key,
                                  title=valid.page_title or conversation.page_title or "",
                                  parent=None, broadcast_id=broadcast_id)
    tenant_id = conversation.tenant_id
    updated = await conversations.add_to_comment_count(rec.conn, tenant_id, conversation.id, 1,
                                                       rec.now_ms)
    placed = await positions.place(rec.conn, updated)
    rec.record(tenant_id, conversation.url_id, EventType.IMAGE_CHAT_UPDATED, broadcast_id,
               {"chat": conversation_json(placed)})
    await usage.add(rec.conn, tenant_id, rec.now_ms, comment_create_count=1)
    return NewImageChat(conversation=updated, comment=comment, edit_key=edit_key, existed=True,
                        placed=placed)


async def _created_from(conn: Connection, tenant_id: str, valid: _ValidConversation
                        ) -> Comment | None:
    if valid.created_from is None:
        return None
    first = await comment_rows.get_comment(conn, tenant_id, valid.created_from)
    if first is None:
        raise NotFound("`createdFromCommentId` names no comment of this site.",
                       "comment-not-found")
    if first.url_id != valid.window_url_id:
        raise BadInput("`createdFromCommentId` is not a comment of the thread at "
                       f"`windowUrlId` ({valid.window_url_id!r}); post it there first.",
                       "comment-not-in-thread")
    return first


async def _version_for(rec: EventRecorder, tenant_id: str, valid: _ValidConversation
                       ) -> tuple[int | None, bool]:
    """The version a new conversation is made on (the image's latest), and whether its
    `src` is worth a look: the image's first (its version 1, whose content is fetched after
    the answer), or another address than the latest version's."""
    look = False
    if valid.src is not None and await image_versions.add_first(
            rec.conn, tenant_id, valid.url_id, valid.src, rec.now_ms):
        older = await conversations.without_version(rec.conn, tenant_id, valid.url_id)
        await conversations.set_version(rec.conn, tenant_id, older, 1, rec.now_ms)
        look = True
    latest = await image_versions.latest(rec.conn, tenant_id, valid.url_id)
    number = latest.version if latest else None
    if valid.version is not None and valid.version != number:
        raise Conflict(f"Version {valid.version} is not the image's latest ({number}); new "
                       "conversations are placed on the latest version.",
                       "not-latest-version")
    if latest is not None and valid.src is not None and latest.src != valid.src:
        look = True
    return number, look


@dataclass(frozen=True, slots=True)
class MoveInput:
    x: Any = None
    y: Any = None
    region: Any = None
    # Whether `region` was sent at all (`null` turns a region into a point).
    region_sent: bool = False
    version: Any = None


def _moved_place(data: MoveInput, before: Positioned) -> Place:
    if data.region_sent and data.region is not None:
        return require_place(data.x, data.y, data.region)
    x = rules.require_percentage(data.x, "x")
    y = rules.require_percentage(data.y, "y")
    if data.region_sent or before.region_w is None or before.region_h is None:
        return Place(x, y)
    # The region moves with its corner, keeping its size.
    return require_place(None, None, {"shape": "rect", "x": x, "y": y, "w": before.region_w,
                                      "h": before.region_h})


def _validate(data: NewImageChatInput) -> _ValidConversation:
    url_id = rules.clean_url_id(data.url_id)
    place = require_place(data.x, data.y, data.region)
    x, y = place.x, place.y
    src = rules.optional_text(data.src, "src", limits.MAX_URL_CHARS)
    window = (data.window_url_id if data.window_url_id not in (None, "")
              else window_url_id(url_id, src, x, y))
    return _ValidConversation(
        url_id=url_id, window_url_id=thread_url_id(window), x=x, y=y,
        page_url=rules.optional_text(data.url, "url", limits.MAX_URL_CHARS),
        page_title=rules.optional_text(data.page_title, "pageTitle",
                                       limits.MAX_PAGE_TITLE_CHARS),
        src=src, created_from=rules.optional_id(data.created_from_comment_id,
                                                "createdFromCommentId"),
        place=place,
        version=None if data.version in (None, "") else require_version(data.version),
    )
