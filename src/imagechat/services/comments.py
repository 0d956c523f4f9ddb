"""Comments at any urlId of a tenant (a page, or a conversation's thread): list, post, edit,
delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.ids import new_edit_key
from imagechat.domain.models import Comment, Tenant
from imagechat.domain.permissions import require_change
from imagechat.domain.text import plain_name, render_comment_html
from imagechat.services import mentions, positions
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.image_chats import remove_conversation
from imagechat.services.mentions import given_mentions
from imagechat.services.moderation import acts_as_moderator, record_action
from imagechat.services.notifications import key_of, notify_mentions
from imagechat.services.posting import write_comment
from imagechat.services.reactions import of_comments
from imagechat.services.recorder import EventRecorder, Writer
from imagechat.services.threads import ThreadChannel, locate, thread_url_id
from imagechat.services.webhook_events import comment_event, mention_events
from imagechat.services.write_guard import require_writable
from imagechat.store import channels, conversations, pages, usage
from imagechat.store import comments as comment_rows
from imagechat.store import users as user_rows
from imagechat.store.comments import mentions_json
from imagechat.wire.present import comment_json, conversation_json

DIRECTIONS = (comment_rows.OLDEST_FIRST, comment_rows.NEWEST_FIRST, comment_rows.MOST_RELEVANT)


@dataclass(frozen=True, slots=True)
class CommentPage:
    comments: list[Comment]
    page: int
    total: int
    has_more: bool
    thread: ThreadChannel
    # The thread's channel is locked (read-only): the reference's `isClosed`.
    locked: bool
    # Per comment: emoji -> count, and the emoji the reader put on it.
    reactions: dict[str, dict[str, int]]
    my_reactions: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class PostedComment:
    comment: Comment
    thread: ThreadChannel
    edit_key: str | None


@dataclass(frozen=True, slots=True)
class LoadedComment:
    comment: Comment
    thread: ThreadChannel


@dataclass(frozen=True, slots=True)
class CommentChanges:
    """Fields a site's backend may change on a comment; None leaves one as it is."""

    text: Any = None
    commenter_name: Any = None
    avatar: Any = None
    approved: Any = None
    verified: Any = None

    def values(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.text is not None:
            text = rules.require_text(self.text, "comment", limits.MAX_COMMENT_CHARS)
            found.update(comment=text, comment_html=render_comment_html(text))
        if self.commenter_name is not None:
            name = rules.require_text(self.commenter_name, "commenterName",
                                      limits.MAX_NAME_CHARS)
            found["commenter_name"] = plain_name(name, limits.MAX_NAME_CHARS) or "Anonymous"
        if self.avatar is not None:
            found["avatar"] = rules.optional_text(self.avatar, "avatarSrc", limits.MAX_URL_CHARS)
        for field, value in (("approved", self.approved), ("verified", self.verified)):
            if value is not None:
                if not isinstance(value, bool):
                    raise BadInput(f"`{field}` must be true or false.", "invalid-field")
                found[field] = value
        return found


@dataclass(frozen=True, slots=True)
class CommentQuery:
    """Filters of the server-to-server listing; None matches everything."""

    url_id: Any = None
    user_id: Any = None
    anon_user_id: Any = None
    parent_id: Any = None
    from_ms: int | None = None
    to_ms: int | None = None
    direction: Any = None
    offset: int = 0
    limit: int = limits.DEFAULT_PAGE_SIZE


def sort_direction(value: Any) -> str:
    if value is None or value == "":
        return comment_rows.OLDEST_FIRST
    if value not in DIRECTIONS:
        raise BadInput("`direction` must be OF (oldest first), NF (newest first) or MR "
                       "(most votes first).", "invalid-direction")
    return str(value)


class CommentService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.db = writer.db

    async def page(
        self, tenant: Tenant, url_id: Any, page: Any, page_size: int, direction: Any = None,
        skip: int | None = None, reader: Actor | None = None,
    ) -> CommentPage:
        """One page of a thread: page `page` of `page_size`, or `page_size` from `skip`."""
        thread = thread_url_id(url_id)
        number = rules.page_number(page)
        order = sort_direction(direction)
        size = max(1, min(page_size, limits.MAX_PAGE_SIZE))
        offset = number * size if skip is None else max(0, skip)
        async with self.db.read() as conn:
            place = await locate(conn, tenant.id, thread)
            position = await channels.position(conn, tenant.id, place.channel)
            rows = await comment_rows.page_for_url_id(
                conn, tenant.id, thread, offset=offset, limit=size + 1, direction=order
            )
            total = await comment_rows.count_for_url_id(conn, tenant.id, thread)
            counts, mine = await of_comments(
                conn, tenant.id, [c.id for c in rows[:size]],
                key_of(reader.user_id, reader.anon_user_id) if reader else None)
        return CommentPage(comments=rows[:size], page=number, total=total,
                           has_more=len(rows) > size, thread=place,
                           locked=position is not None and position.locked,
                           reactions=counts, my_reactions=mine)

    async def search(self, tenant: Tenant, query: CommentQuery) -> list[Comment]:
        url_id = thread_url_id(query.url_id) if query.url_id not in (None, "") else None
        async with self.db.read() as conn:
            return await comment_rows.page_all(
                conn, tenant.id, url_id=url_id,
                user_id=rules.optional_id(query.user_id, "userId"),
                anon_user_id=rules.optional_id(query.anon_user_id, "anonUserId"),
                parent_id=rules.optional_id(query.parent_id, "parentId"),
                from_ms=query.from_ms, to_ms=query.to_ms,
                direction=sort_direction(query.direction), offset=query.offset,
                limit=query.limit,
            )

    async def get(self, tenant: Tenant, comment_id: Any) -> LoadedComment:
        comment_id = rules.require_id(comment_id, "commentId")
        async with self.db.read() as conn:
            comment = await comment_rows.get_comment(conn, tenant.id, comment_id)
            if comment is None:
                raise NotFound("No comment with that id.", "comment-not-found")
            return LoadedComment(comment, await locate(conn, tenant.id, comment.url_id))

    async def post(
        self, tenant: Tenant, actor: Actor, url_id: Any, draft: CommentDraft,
        broadcast_id: str | None,
    ) -> PostedComment:
        require_writer(tenant, actor)
        thread = thread_url_id(url_id)
        draft.validate(actor)
        edit_key = None if actor.is_signed_in or actor.is_backend else new_edit_key()
        async with self.writer.transaction() as rec:
            conn = rec.conn
            place = await locate(conn, tenant.id, thread)
            await require_writable(conn, tenant.id, place.channel, actor)
            parent = None
            if draft.clean_parent_id is not None:
                parent = await comment_rows.get_comment(conn, tenant.id, draft.clean_parent_id)
                if parent is None or parent.url_id != thread:
                    raise BadInput("`parentId` is not a comment of this thread.",
                                   "invalid-parent")
            await user_rows.remember(conn, actor, rec.now_ms)
            comment = await write_comment(
                rec, draft, actor, place, edit_key,
                title=draft.clean_page_title or _conversation_title(place), parent=parent,
                broadcast_id=broadcast_id)
            if place.conversation is not None:
                updated = await conversations.add_to_comment_count(
                    conn, tenant.id, place.conversation.id, 1, rec.now_ms)
                placed = await positions.place(conn, updated)
                rec.record(tenant.id, place.channel, EventType.IMAGE_CHAT_UPDATED,
                           broadcast_id, {"chat": conversation_json(placed)})
            await usage.add(conn, tenant.id, rec.now_ms, comment_create_count=1)
        return PostedComment(comment=comment, thread=place, edit_key=edit_key)

    async def update_text(
        self, tenant: Tenant, actor: Actor, comment_id: Any, text: Any, edit_key: str | None,
        broadcast_id: str | None, mentions: Any = None,
    ) -> LoadedComment:
        """Edit a comment's text; users it newly mentions are notified."""
        comment_id = rules.require_id(comment_id, "commentId")
        new_text = rules.require_text(text, "comment", limits.MAX_COMMENT_CHARS)
        given = given_mentions(mentions)
        async with self.writer.transaction() as rec:
            comment, place = await _load(rec, tenant.id, comment_id)
            require_change(actor, "comment", owner_user_id=comment.user_id,
                           edit_key_hash=comment.edit_key_hash, edit_key=edit_key)
            await require_writable(rec.conn, tenant.id, place.channel, actor)
            updated = await _rewrite(rec, comment, place, new_text, given, actor, broadcast_id)
        return LoadedComment(updated, place)

    async def edit(
        self, tenant: Tenant, actor: Actor, comment_id: Any, changes: CommentChanges,
        broadcast_id: str | None,
    ) -> LoadedComment:
        """Change several fields at once (the site's backend, `PATCH /api/v1/comments`)."""
        comment_id = rules.require_id(comment_id, "commentId")
        values = changes.values()
        async with self.writer.transaction() as rec:
            comment, place = await _load(rec, tenant.id, comment_id)
            require_change(actor, "comment", owner_user_id=comment.user_id,
                           edit_key_hash=comment.edit_key_hash, edit_key=None)
            await require_writable(rec.conn, tenant.id, place.channel, actor)
            if not values:
                return LoadedComment(comment, place)
            if "comment" in values:
                text = values.pop("comment")
                values.pop("comment_html")
                # Quiet only when more changes follow: change_comment then records the event.
                comment = await _rewrite(rec, comment, place, text, [], actor, broadcast_id,
                                         quiet=bool(values))
            updated = (await change_comment(rec, comment, place, values, broadcast_id)
                       if values else comment)
        return LoadedComment(updated, place)

    async def delete(
        self, tenant: Tenant, actor: Actor, comment_id: Any, edit_key: str | None,
        broadcast_id: str | None,
    ) -> Comment:
        """Delete a comment and its replies; a conversation goes with its last comment."""
        comment_id = rules.require_id(comment_id, "commentId")
        async with self.writer.transaction() as rec:
            comment, place = await _load(rec, tenant.id, comment_id)
            require_change(actor, "comment", owner_user_id=comment.user_id,
                           edit_key_hash=comment.edit_key_hash, edit_key=edit_key)
            await require_writable(rec.conn, tenant.id, place.channel, actor)
            if acts_as_moderator(actor, comment.user_id):
                await record_action(rec.conn, tenant.id, actor, "delete-comment", comment.id,
                                    rec.now_ms, f"by {comment.commenter_name} on {place.channel}")
            thread = await comment_rows.in_thread(rec.conn, tenant.id, comment.url_id)
            doomed = _subtree(thread, comment.id)
            if place.conversation is not None and len(doomed) == len(thread):
                await remove_conversation(rec, place.conversation, broadcast_id)
                return comment
            await comment_rows.delete_comments(rec.conn, tenant.id, [c.id for c in doomed])
            await pages.uncount_comments(rec.conn, tenant.id, comment.url_id, rec.now_ms,
                                         comments=len(doomed),
                                         roots=sum(1 for c in doomed if c.parent_id is None))
            for gone in doomed:
                rec.record(tenant.id, place.channel, EventType.DELETED_COMMENT, broadcast_id,
                           {"comment": comment_json(gone, place.chat_id)})
                comment_event(rec, "comment.deleted", gone, place)
            if place.conversation is not None:
                updated = await conversations.add_to_comment_count(
                    rec.conn, tenant.id, place.conversation.id, -len(doomed), rec.now_ms
                )
                rec.record(tenant.id, place.channel, EventType.IMAGE_CHAT_UPDATED, broadcast_id,
                           {"chat": conversation_json(await positions.place(rec.conn, updated))})
        return comment


async def change_comment(
    rec: EventRecorder, comment: Comment, place: ThreadChannel, values: dict[str, Any],
    broadcast_id: str | None,
) -> Comment:
    """Change stored fields of a comment and record `updated-comment`."""
    await comment_rows.update_fields(rec.conn, comment.tenant_id, comment.id,
                                     {**values, "updated_at": rec.now_ms})
    updated = await comment_rows.get_comment(rec.conn, comment.tenant_id, comment.id)
    assert updated is not None  # held inside this transaction
    rec.record(comment.tenant_id, place.channel, EventType.UPDATED_COMMENT, broadcast_id,
               {"comment": comment_json(updated, place.chat_id)})
    comment_event(rec, "comment.updated", updated, place)
    return updated


async def _rewrite(
    rec: EventRecorder, comment: Comment, place: ThreadChannel, text: str,
    given: list[tuple[str, str | None]], actor: Actor, broadcast_id: str | None, *,
    quiet: bool = False,
) -> Comment:
    """New text for a comment, with its mentions found again; users mentioned now and not
    before hear of it. `quiet`: the caller changes more and records the event itself."""
    html, found = await mentions.resolve(rec.conn, comment.tenant_id,
                                         render_comment_html(text), given)
    values = {"comment": text, "comment_html": html, "mentions": mentions_json(found)}
    if quiet:
        await comment_rows.update_fields(rec.conn, comment.tenant_id, comment.id,
                                         {**values, "updated_at": rec.now_ms})
        updated = await comment_rows.get_comment(rec.conn, comment.tenant_id, comment.id)
        assert updated is not None
    else:
        updated = await change_comment(rec, comment, place, values, broadcast_id)
    before = {m.id for m in comment.mentions}
    fresh = [m for m in updated.mentions if m.id not in before]
    await notify_mentions(rec, updated, place, actor, fresh, title=_conversation_title(place))
    mention_events(rec, updated, place, fresh)
    return updated


def _conversation_title(place: ThreadChannel) -> str:
    return (place.conversation.page_title if place.conversation is not None else None) or ""


async def _load(
    rec: EventRecorder, tenant_id: str, comment_id: str
) -> tuple[Comment, ThreadChannel]:
    comment = await comment_rows.get_comment(rec.conn, tenant_id, comment_id)
    if comment is None:
        raise NotFound("No comment with that id.", "comment-not-found")
    return comment, await locate(rec.conn, tenant_id, comment.url_id)


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
