"""In-app notifications and follows: who hears of what, and reading the bell.

A notification is made, in the same transaction as the change, when someone
- mentions you (`mention`);
- replies in a thread you wrote in or follow (`reply`);
- resolves or reopens your conversation (`resolved`, `reopened`).
Never for your own action, never to a banned visitor, and each visitor once per change (a
mention wins over a reply). Visitors are keyed as bans are: "u:<userId>" for signed-in
users, "a:<anonUserId>" for anonymous ones, whose notifications follow that id (and so
stay in the browser that keeps it). Each new notification is also pushed, after commit, to
that visitor's live connections only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotAuthenticated, NotFound
from imagechat.domain.ids import new_id
from imagechat.domain.mentions import text_of
from imagechat.domain.models import Comment, Conversation, Mention, Notification, Tenant
from imagechat.services.recorder import EventRecorder, Writer
from imagechat.services.threads import ThreadChannel, locate, thread_url_id
from imagechat.store import follows, moderation, notifications
from imagechat.wire.present import notification_event_json

# The reference's NotificationType numbers. A reply to your own comment is RepliedToMe;
# any other activity in a thread of yours is RepliedTransientChild, resolving included
# (the reference has no number for it; `kind` says which it is).
REPLIED_TO_ME = 0
REPLIED_IN_THREAD = 1
MENTIONED = 7
CONTEXT_CHARS = 200
MAX_PAGE = 100


def key_of(user_id: str | None, anon_user_id: str | None) -> str | None:
    """A visitor's key, the same as their ban subject."""
    if user_id is not None:
        return moderation.ban_subject(user_id, None)
    if anon_user_id is not None:
        return moderation.ban_subject(None, anon_user_id)
    return None


def keys_of(actor: Actor) -> set[str]:
    """Every key the actor acts under (a signed-in user may also carry an anonymous id)."""
    return {k for k in (key_of(actor.user_id, None), key_of(None, actor.anon_user_id)) if k}


def reader_key(actor: Actor) -> str:
    """Whose bell a request reads: the signed-in user, else the anonymous id."""
    found = key_of(actor.user_id, actor.anon_user_id)
    if found is None:
        raise NotAuthenticated("Notifications are per visitor: sign in (sso), or send the "
                               "anonUserId of this browser.", "visitor-unknown")
    return found


@dataclass(frozen=True, slots=True)
class NotificationPage:
    notifications: list[Notification]
    has_more: bool
    # The reader follows the thread the listing was asked for (`urlId`).
    following: bool


class NotificationService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.db = writer.db

    async def page(
        self, tenant: Tenant, actor: Actor, *, url_id: Any = None, page_size: Any = None,
        after_id: Any = None, unread_only: bool = False,
    ) -> NotificationPage:
        key = reader_key(actor)
        size = _page_size(page_size)
        thread = thread_url_id(url_id) if url_id not in (None, "") else None
        async with self.db.read() as conn:
            before = None
            if after_id not in (None, ""):
                last = await notifications.get(conn, tenant.id,
                                               rules.require_id(after_id, "afterId"))
                if last is None or last.user_key != key:
                    raise NotFound("No notification of yours with that id.",
                                   "notification-not-found")
                before = (last.created_at, last.id)
            found = await notifications.page(conn, tenant.id, key, limit=size + 1,
                                             before=before, unread_only=unread_only)
            following = thread is not None and await follows.follows_thread(
                conn, tenant.id, thread, key)
        return NotificationPage(found[:size], len(found) > size, following)

    async def unread_count(self, tenant: Tenant, actor: Actor) -> int:
        key = reader_key(actor)
        async with self.db.read() as conn:
            return await notifications.unread_count(conn, tenant.id, key)

    async def mark(self, tenant: Tenant, actor: Actor, notification_id: Any, state: Any
                   ) -> tuple[int, int]:
        """Mark one of the reader's notifications read or unread: (matched, modified)."""
        key = reader_key(actor)
        if state not in ("read", "unread"):
            raise BadInput('The new state is "read" or "unread".', "invalid-state")
        ident = rules.require_id(notification_id, "notificationId")
        async with self.writer.transaction() as rec:
            counts = await notifications.set_viewed(rec.conn, tenant.id, key,
                                                    viewed=state == "read",
                                                    notification_id=ident)
            if counts[0] == 0:
                raise NotFound("No notification of yours with that id.",
                               "notification-not-found")
            await _push_count(rec, tenant.id, key)
        return counts

    async def reset(self, tenant: Tenant, actor: Actor) -> tuple[int, int]:
        """Mark all of the reader's notifications read."""
        key = reader_key(actor)
        async with self.writer.transaction() as rec:
            counts = await notifications.set_viewed(rec.conn, tenant.id, key, viewed=True)
            await _push_count(rec, tenant.id, key)
        return counts

    async def set_following(
        self, tenant: Tenant, actor: Actor, raw_url_id: Any, state: Any, *, url: Any = None,
        page_title: Any = None,
    ) -> tuple[int, int]:
        """Follow ("subscribe") or unfollow ("unsubscribe") a thread."""
        key = reader_key(actor)
        if state not in ("subscribe", "unsubscribe"):
            raise BadInput('The new state is "subscribe" or "unsubscribe".', "invalid-state")
        thread = thread_url_id(raw_url_id)
        page = rules.optional_text(url, "url", limits.MAX_URL_CHARS) or ""
        title = rules.optional_text(page_title, "pageTitle", limits.MAX_PAGE_TITLE_CHARS) or ""
        async with self.writer.transaction() as rec:
            was = await follows.follows_thread(rec.conn, tenant.id, thread, key)
            if state == "subscribe":
                await follows.follow(rec.conn, tenant.id, thread, key, url=page,
                                     page_title=title, now_ms=rec.now_ms)
                return 1, 0 if was else 1
            changed = await follows.unfollow(rec.conn, tenant.id, thread, key)
        return (1 if was else 0), (1 if changed else 0)


def _page_size(value: Any) -> int:
    if value in (None, ""):
        return 30
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadInput("`pageSize` must be a whole number.", "invalid-page") from None
    if not 1 <= number <= MAX_PAGE:
        raise BadInput(f"`pageSize` must be from 1 to {MAX_PAGE}.", "invalid-page")
    return number


async def follow_on_write(rec: EventRecorder, actor: Actor, url_id: str, *, url: str,
                          title: str) -> None:
    """Writing in a thread follows it (the site's backend follows nothing)."""
    key = key_of(actor.user_id, actor.anon_user_id)
    if key is not None and not actor.is_backend:
        await follows.follow(rec.conn, actor.tenant_id, url_id, key, url=url,
                             page_title=title, now_ms=rec.now_ms)


async def notify_comment(rec: EventRecorder, comment: Comment, place: ThreadChannel,
                         actor: Actor, parent: Comment | None, title: str) -> None:
    """Mentions, the parent's author and the thread's followers hear of a new comment."""
    wanted: dict[str, tuple[str, int]] = {}
    for follower in await follows.followers(rec.conn, comment.tenant_id, comment.url_id):
        wanted[follower] = ("reply", REPLIED_IN_THREAD)
    parent_key = key_of(parent.user_id, parent.anon_user_id) if parent else None
    if parent_key is not None:
        wanted[parent_key] = ("reply", REPLIED_TO_ME)
    for mention in comment.mentions:
        wanted[moderation.ban_subject(mention.id, None)] = ("mention", MENTIONED)
    await _make(rec, wanted, actor, base=_about(comment, place, title))


async def notify_mentions(rec: EventRecorder, comment: Comment, place: ThreadChannel,
                          actor: Actor, mentioned: list[Mention], *, title: str) -> None:
    """Users an edit newly mentions hear of it (the others were told already)."""
    wanted = {moderation.ban_subject(m.id, None): ("mention", MENTIONED) for m in mentioned}
    if wanted:
        await _make(rec, wanted, actor, base=_about(comment, place, title))


async def notify_resolution(rec: EventRecorder, conversation: Conversation, actor: Actor,
                            resolved: bool) -> None:
    """The conversation's author hears that it was resolved or reopened."""
    key = key_of(conversation.user_id, conversation.anon_user_id)
    if key is None:
        return
    kind = "resolved" if resolved else "reopened"
    place = await locate(rec.conn, conversation.tenant_id, conversation.window_url_id)
    base = Notification(
        id="", tenant_id=conversation.tenant_id, user_key="", kind=kind, type=REPLIED_IN_THREAD,
        url_id=conversation.window_url_id, channel_url_id=place.channel, chat_id=conversation.id,
        comment_id=None, url=conversation.page_url or "", page_title=conversation.page_title or "",
        from_user_id=actor.user_id, from_name=_name(actor), from_avatar=actor.avatar,
        context="", viewed=False, created_at=rec.now_ms,
    )
    await _make(rec, {key: (kind, REPLIED_IN_THREAD)}, actor, base=base)


def _about(comment: Comment, place: ThreadChannel, title: str) -> Notification:
    return Notification(
        id="", tenant_id=comment.tenant_id, user_key="", kind="", type=0,
        url_id=comment.url_id, channel_url_id=place.channel, chat_id=place.chat_id,
        comment_id=comment.id, url=comment.url, page_title=title[:300],
        from_user_id=comment.user_id, from_name=comment.commenter_name[:200],
        from_avatar=comment.avatar, context=text_of(comment.comment_html)[:CONTEXT_CHARS],
        viewed=False, created_at=comment.created_at,
    )


def _name(actor: Actor) -> str:
    if actor.is_backend:
        return "The site"
    return (actor.display_name or "Someone")[:200]


async def _make(rec: EventRecorder, wanted: dict[str, tuple[str, int]], actor: Actor, *,
                base: Notification) -> None:
    for own in keys_of(actor):
        wanted.pop(own, None)
    banned = await moderation.banned_among(rec.conn, base.tenant_id, sorted(wanted))
    made = [replace(base, id=new_id(), user_key=key, kind=kind, type=number)
            for key, (kind, number) in sorted(wanted.items()) if key not in banned]
    await notifications.add(rec.conn, made)
    if made and rec.on_notifications is not None:
        await rec.on_notifications(rec, made)
    for notification in made:
        rec.notice(notification.tenant_id, notification.user_key,
                   {"type": "notification", "notification": notification_event_json(
                       notification)})


async def _push_count(rec: EventRecorder, tenant_id: str, key: str) -> None:
    """The reader's other tabs learn the new unread count (the reference's
    `notification-update`)."""
    count = await notifications.unread_count(rec.conn, tenant_id, key)
    rec.notice(tenant_id, key, {"type": "notification-update", "count": count})
