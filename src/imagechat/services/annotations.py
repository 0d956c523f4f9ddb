"""The W3C Web Annotation Protocol's use cases over conversations and comments: read an
image as annotations, create, replace and delete one (docs/annotations.md).

Every write goes through the services the REST API uses (image chats, comments), so
permissions, bans, locks, events, the event log, webhooks and notifications apply as they
are. What the client sent is kept beside (`annotation_documents`), once the write it
describes succeeded.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from imagechat.annotations import documents
from imagechat.annotations.documents import AnnotatedImage, AnnotationThread
from imagechat.annotations.errors import PreconditionFailed, PreconditionRequired
from imagechat.annotations.incoming import Incoming, keep_identity
from imagechat.annotations.iris import Iris
from imagechat.annotations.selectors import ImageSize, to_place
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotFound
from imagechat.domain.ids import new_id
from imagechat.domain.models import Comment, Tenant
from imagechat.domain.permissions import require_change
from imagechat.domain.regions import Place
from imagechat.domain.threads import window_url_id
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.comments import CommentService
from imagechat.services.image_chats import ImageChatService, MoveInput, NewImageChatInput
from imagechat.services.recorder import Writer
from imagechat.services.write_guard import require_writable
from imagechat.store import annotation_documents, conversations, image_versions
from imagechat.store import comments as comment_rows

# Places closer than this (percent) are the same place: a PUT that sends back what it read
# does not move the conversation by a rounding error.
_SAME_PLACE = 0.05


@dataclass(frozen=True, slots=True)
class Written:
    """Where the new annotation is: its thread's root, and its comment when a reply."""

    root_id: str
    reply_id: str | None
    # Handed once to an anonymous author; needed to change or delete it later.
    edit_key: str | None


@dataclass(frozen=True, slots=True)
class Writing:
    """Who writes, with what the request says beside the annotation."""

    actor: Actor
    broadcast_id: str | None = None
    edit_key: str | None = None
    # A name for an anonymous author whose annotation has no `creator`.
    commenter_name: str | None = None


def _whole_image_threads(own: list[Comment]) -> list[AnnotationThread]:
    """Comments at the image's own urlId: each top-level one an annotation, the comments
    under it (at any depth) its replies."""
    parent = {c.id: c.parent_id for c in own}

    def root(comment: Comment) -> str:
        current, seen = comment.id, set()
        while parent.get(current) is not None and current not in seen:
            seen.add(current)
            current = parent[current] or current
        return current

    grouped: dict[str, list[Comment]] = {}
    for comment in own:
        grouped.setdefault(root(comment), []).append(comment)
    threads = []
    for root_id, members in grouped.items():
        first = next((c for c in members if c.id == root_id), None)
        if first is not None:  # a reply whose top has gone: not listed
            rest = [c for c in members if c.id != root_id]
            threads.append(AnnotationThread(root_id, None, [first, *rest]))
    return threads


def _in_order(thread: list[Comment]) -> list[Comment]:
    """Oldest first; of comments made in the same millisecond, one that answers another
    comes after the top-level one (the first is the conversation's own body)."""
    return sorted(thread, key=lambda c: (c.created_at, c.parent_id is not None))


def _created_at(thread: AnnotationThread) -> int:
    if thread.placed is not None:
        return thread.placed.conversation.created_at
    return thread.first.created_at if thread.first else 0


def _matches(if_match: str, current: str) -> bool:
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    return "*" in tags or current in tags


def _same_place(a: Place, b: Place, size: ImageSize | None, unit: str) -> bool:
    # Pixels were rounded when served: a pixel either way is the same place.
    tolerance = _SAME_PLACE
    if unit == "pixel" and size is not None:
        tolerance = max(tolerance, 100 / min(size.width, size.height))

    def near(p: float | None, q: float | None) -> bool:
        if p is None or q is None:
            return p is None and q is None
        return math.isclose(p, q, abs_tol=tolerance)

    return all(near(p, q) for p, q in ((a.x, b.x), (a.y, b.y), (a.w, b.w), (a.h, b.h)))


def _is_web_address(source: str | None) -> bool:
    return source is not None and source.startswith(("http://", "https://", "/"))


class AnnotationService:
    def __init__(self, writer: Writer, image_chats: ImageChatService,
                 comments: CommentService) -> None:
        self.writer = writer
        self.db = writer.db
        self.image_chats = image_chats
        self.comments = comments

    async def image(self, tenant: Tenant, raw_url_id: Any) -> AnnotatedImage:
        """Everything the image's annotations are made of, each conversation on the
        image's latest version."""
        listing = await self.image_chats.list(tenant, raw_url_id)
        url_id = listing.url_id
        async with self.db.read() as conn:
            threads = [AnnotationThread(p.conversation.id, p, _in_order(
                await comment_rows.in_thread(conn, tenant.id, p.conversation.window_url_id)))
                for p in listing.conversations]
            threads.extend(_whole_image_threads(
                await comment_rows.in_thread(conn, tenant.id, url_id)))
            latest = await image_versions.latest(conn, tenant.id, url_id)
            kept = await annotation_documents.of_image(conn, tenant.id, url_id)
        size = (ImageSize(latest.width, latest.height)
                if latest is not None and latest.width and latest.height else None)
        threads.sort(key=_created_at)
        return AnnotatedImage(url_id=url_id, src=latest.src if latest else None, size=size,
                              threads=threads, documents=kept)

    async def create(self, tenant: Tenant, iris: Iris, incoming: Incoming, who: Writing
                     ) -> Written:
        image = await self.image(tenant, iris.url_id)
        name = incoming.creator_name or who.commenter_name
        if incoming.reply_to is not None:
            written = await self._reply(tenant, iris, image, incoming, who, name)
        elif incoming.fragment is not None:
            written = await self._conversation(tenant, image, incoming, who, name)
        else:
            text = _require_text(incoming)
            posted = await self.comments.post(
                tenant, who.actor, image.url_id, CommentDraft(text=text, commenter_name=name),
                who.broadcast_id)
            written = Written(posted.comment.id, None, posted.edit_key)
        await self._keep(tenant, image.url_id, written.reply_id or written.root_id,
                         incoming.document)
        return written

    async def _reply(self, tenant: Tenant, iris: Iris, image: AnnotatedImage,
                     incoming: Incoming, who: Writing, name: str | None) -> Written:
        assert incoming.reply_to is not None
        found = iris.parse(incoming.reply_to)
        thread = documents.thread_of(image, found[0]) if found else None
        if found is None or thread is None or (
                found[1] is not None and found[1] not in {c.id for c in thread.replies}):
            raise BadInput("A reply's `target` must be an annotation of this container "
                           f"({iris.container}…).", "reply-target-unknown")
        root_id, parent_id = found
        if thread.placed is None and parent_id is None:
            parent_id = root_id  # under the whole-image comment it answers
        thread_url = (thread.placed.conversation.window_url_id if thread.placed
                      else image.url_id)
        posted = await self.comments.post(
            tenant, who.actor, thread_url,
            CommentDraft(text=_require_text(incoming), commenter_name=name,
                         parent_id=parent_id), who.broadcast_id)
        return Written(root_id, posted.comment.id, posted.edit_key)

    async def _conversation(self, tenant: Tenant, image: AnnotatedImage, incoming: Incoming,
                            who: Writing, name: str | None) -> Written:
        assert incoming.fragment is not None
        place = to_place(incoming.fragment, image.size)
        src = incoming.source if _is_web_address(incoming.source) else image.src
        window = window_url_id(image.url_id, src, place.x, place.y)
        async with self.db.read() as conn:
            if await conversations.by_window_url_id(conn, tenant.id, window) is not None:
                # Another annotation at exactly this place: its own thread all the same.
                window = f"{image.url_id}:annotation:{new_id()}"
        draft = (CommentDraft(text=incoming.text, commenter_name=name)
                 if incoming.text is not None else None)
        region = place.region
        created = await self.image_chats.create(tenant, who.actor, NewImageChatInput(
            url_id=image.url_id, x=place.x, y=place.y, src=src, window_url_id=window,
            first_comment=draft, region=region.as_json() if region else None,
        ), who.broadcast_id)
        return Written(created.conversation.id, None, created.edit_key)

    async def replace(self, tenant: Tenant, iris: Iris, root_id: str, reply_id: str | None,
                      incoming: Incoming, if_match: str | None, who: Writing) -> None:
        """PUT: the annotation becomes what was sent, if it is still what the client read
        (`If-Match`). Its place moves, its text changes, its document is replaced."""
        image = await self.image(tenant, iris.url_id)
        thread = _require_current(iris, image, root_id, reply_id, if_match, required=True)
        stored = dict(image.documents.get(reply_id or root_id, {}))
        incoming = dataclasses.replace(incoming,
                                       document=keep_identity(stored, incoming.document))
        if reply_id is not None:
            if incoming.reply_to is None:
                raise _kind_changed()
            comment = next(c for c in thread.replies if c.id == reply_id)
            await self._check_and_keep(tenant, image, comment, incoming, who)
            await self._retext(tenant, comment, incoming.text, who)
            return
        if thread.placed is None:
            if incoming.reply_to is not None or incoming.fragment is not None:
                raise _kind_changed()
            assert thread.first is not None
            await self._check_and_keep(tenant, image, thread.first, incoming, who)
            await self._retext(tenant, thread.first, incoming.text, who)
            return
        if incoming.reply_to is not None or incoming.fragment is None:
            raise _kind_changed()
        placed = thread.placed
        conversation = placed.conversation
        place = to_place(incoming.fragment, image.size)
        async with self.writer.transaction() as rec:
            require_change(who.actor, "image chat", owner_user_id=conversation.user_id,
                           edit_key_hash=conversation.edit_key_hash, edit_key=who.edit_key)
            await require_writable(rec.conn, tenant.id, conversation.url_id, who.actor)
            await annotation_documents.put(rec.conn, tenant.id, image.url_id, conversation.id,
                                           incoming.document, rec.now_ms)
        if not _same_place(place, Place(placed.x, placed.y, placed.region_w, placed.region_h),
                           image.size, incoming.fragment.unit):
            region = place.region
            await self.image_chats.move(
                tenant, who.actor, conversation.id,
                MoveInput(x=place.x, y=place.y, region=region.as_json() if region else None,
                          region_sent=True), who.broadcast_id, who.edit_key)
        if thread.first is not None:
            await self._retext(tenant, thread.first, incoming.text, who)
        elif incoming.text is not None:
            await self.comments.post(
                tenant, who.actor, conversation.window_url_id,
                CommentDraft(text=incoming.text,
                             commenter_name=incoming.creator_name or who.commenter_name),
                who.broadcast_id)

    async def delete(self, tenant: Tenant, iris: Iris, root_id: str, reply_id: str | None,
                     if_match: str | None, who: Writing) -> None:
        image = await self.image(tenant, iris.url_id)
        thread = _require_current(iris, image, root_id, reply_id, if_match, required=False)
        if reply_id is not None:
            await self.comments.delete(tenant, who.actor, reply_id, who.edit_key,
                                       who.broadcast_id)
            gone = [reply_id]
        elif thread.placed is not None:
            await self.image_chats.delete(tenant, who.actor, root_id, who.broadcast_id,
                                          who.edit_key)
            gone = [root_id, *(c.id for c in thread.comments)]
        else:
            await self.comments.delete(tenant, who.actor, root_id, who.edit_key,
                                       who.broadcast_id)
            gone = [c.id for c in thread.comments]
        async with self.db.write() as conn:
            await annotation_documents.forget(conn, tenant.id, gone)

    async def _keep(self, tenant: Tenant, url_id: str, object_id: str,
                    document: dict[str, Any]) -> None:
        async with self.db.write() as conn:
            await annotation_documents.put(conn, tenant.id, url_id, object_id, document,
                                           self.writer.clock.now_ms())

    async def _check_and_keep(self, tenant: Tenant, image: AnnotatedImage, comment: Comment,
                              incoming: Incoming, who: Writing) -> None:
        """The comment's author (or a moderator) keeps the new document, if they may
        write here now."""
        async with self.writer.transaction() as rec:
            require_change(who.actor, "comment", owner_user_id=comment.user_id,
                           edit_key_hash=comment.edit_key_hash, edit_key=who.edit_key)
            channel = await _channel_of(rec.conn, tenant.id, comment)
            await require_writable(rec.conn, tenant.id, channel, who.actor)
            await annotation_documents.put(rec.conn, tenant.id, image.url_id, comment.id,
                                           incoming.document, rec.now_ms)

    async def _retext(self, tenant: Tenant, comment: Comment, text: str | None,
                      who: Writing) -> None:
        if text is not None and text != comment.comment:
            await self.comments.update_text(tenant, who.actor, comment.id, text,
                                            who.edit_key, who.broadcast_id)


async def _channel_of(conn: Any, tenant_id: str, comment: Comment) -> str:
    conversation = await conversations.by_window_url_id(conn, tenant_id, comment.url_id)
    return conversation.url_id if conversation is not None else comment.url_id


def _require_text(incoming: Incoming) -> str:
    if incoming.text is None:
        raise BadInput("This annotation needs a TextualBody (its comment): a reply, or an "
                       "annotation without a selector, is its text.", "text-missing")
    return incoming.text


def _kind_changed() -> BadInput:
    return BadInput("A PUT keeps the annotation's kind: a reply stays a reply, an annotation "
                    "with a selector keeps one, one without stays without. Delete it and "
                    "POST the new one instead.", "annotation-kind-changed")


def _require_current(iris: Iris, image: AnnotatedImage, root_id: str, reply_id: str | None,
                     if_match: str | None, *, required: bool) -> AnnotationThread:
    current = documents.find(iris, image, root_id, reply_id)
    thread = documents.thread_of(image, root_id)
    if current is None or thread is None:
        raise NotFound("There is no annotation at this address.", "annotation-not-found")
    if if_match is None:
        if required:
            raise PreconditionRequired("Send `If-Match` with the annotation's ETag (from a "
                                       "GET), so that no one else's change is overwritten.")
        return thread
    if not _matches(if_match, documents.etag(current)):
        raise PreconditionFailed("The annotation has changed since that ETag: GET it again, "
                                 "then send your change.")
    return thread
