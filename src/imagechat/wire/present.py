"""Entities in the reference's JSON shape.

Reference clients are strict: a comment inside an event must carry every field they
require (`_id, tenantId, urlId, commenterName, commentHTML, comment, verified, url,
approved, locale, date`), even in `deleted-comment`. Unknown extra keys are fine.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote, urlencode

from imagechat.domain.actor import Actor
from imagechat.domain.clock import iso_from_ms
from imagechat.domain.models import (
    Ban,
    Comment,
    Conversation,
    Delivery,
    ImageVersion,
    KnownUser,
    ModerationEntry,
    Notification,
    Page,
    Positioned,
    Vote,
    WebhookEndpoint,
)


def comment_json(
    c: Comment, chat_id: str | None = None, *, reactions: dict[str, int] | None = None,
    mine: list[str] | None = None,
) -> dict[str, Any]:
    """A comment as the widget API and live events carry it; `chatId` names the
    conversation whose thread it is in (None for a page's comment). `reactions` (emoji ->
    count) is there when known; `myReactions`, the asking visitor's, only in answers."""
    data = {
        "_id": c.id,
        "tenantId": c.tenant_id,
        "urlId": c.url_id,
        "url": c.url,
        "commenterName": c.commenter_name,
        "commentHTML": c.comment_html,
        "comment": c.comment,
        "date": iso_from_ms(c.created_at),
        "verified": c.verified,
        "approved": c.approved,
        "locale": None,
        "userId": c.user_id,
        "anonUserId": c.anon_user_id,
        "parentId": c.parent_id,
        "avatarSrc": c.avatar,
        "votes": c.votes,
        "votesUp": c.votes_up,
        "votesDown": c.votes_down,
        "isByAdmin": c.is_by_admin,
        "isByModerator": c.is_by_moderator,
        "chatId": chat_id,
        "mentions": [{"id": m.id, "tag": m.tag} for m in c.mentions],
    }
    if reactions is not None:
        data["reactions"] = reactions
    if mine is not None:
        data["myReactions"] = mine
    return data


def _positioned(c: Conversation | Positioned) -> Positioned:
    if isinstance(c, Positioned):
        return c
    return Positioned(conversation=c, on_version=c.version, x=c.x, y=c.y, region_w=c.region_w,
                      region_h=c.region_h)


def region_json(p: Positioned) -> dict[str, Any] | None:
    if p.region_w is None or p.region_h is None:
        return None
    return {"shape": "rect", "x": p.x, "y": p.y, "w": p.region_w, "h": p.region_h}


def conversation_json(c: Conversation | Positioned) -> dict[str, Any]:
    """A conversation as events carry it. Kept small (a `new-image-chat` frame stays under
    350 bytes for urlIds of up to about 50 bytes): its creation time is the event's
    `timestamp`, its image is the event's `urlId`, and unset author ids are left out. Its
    own `urlId` is its thread's, as in the reference's listing; REST answers also name that
    `windowUrlId`, events do not repeat it.

    `x`, `y` (and `region`) are its place on the latest version of its image. On images
    with versions it has `version` (made on), and `carry` and `positionVersion` when they
    are not "origin" and its own version."""
    p = _positioned(c)
    conversation = p.conversation
    data: dict[str, Any] = {
        "_id": conversation.id,
        "urlId": conversation.window_url_id,
        "x": p.x,
        "y": p.y,
        "commentCount": conversation.comment_count,
        "resolved": conversation.resolved,
    }
    region = region_json(p)
    if region is not None:
        data["region"] = region
    if conversation.user_id is not None:
        data["userId"] = conversation.user_id
    if conversation.anon_user_id is not None:
        data["anonUserId"] = conversation.anon_user_id
    if conversation.resolved_at is not None:
        data["resolvedBy"] = conversation.resolved_by
        data["resolvedAt"] = conversation.resolved_at
    if conversation.version is not None:
        data["version"] = conversation.version
        if p.carry != "origin":
            data["carry"] = p.carry
        if p.on_version != conversation.version:
            data["positionVersion"] = p.on_version
    return data


def conversation_detail_json(c: Conversation | Positioned) -> dict[str, Any]:
    """A conversation with everything stored about it (REST reads, not events)."""
    p = _positioned(c)
    conversation = p.conversation
    return {
        **conversation_json(p),
        "windowUrlId": conversation.window_url_id,
        "region": region_json(p),
        "version": conversation.version,
        "carry": p.carry,
        "positionVersion": p.on_version,
        "resolvedBy": conversation.resolved_by,
        "resolvedAt": conversation.resolved_at,
        "urlIdClean": conversation.url_id,
        "createdAt": conversation.created_at,
        "userId": conversation.user_id,
        "anonUserId": conversation.anon_user_id,
        "tenantId": conversation.tenant_id,
        "pageUrl": conversation.page_url,
        "pageTitle": conversation.page_title,
        "src": conversation.src,
        "commenterName": conversation.commenter_name,
        "updatedAt": conversation.updated_at,
    }


def carried_place_json(p: Positioned) -> dict[str, Any]:
    """A conversation's new place in an `image-version` event: only what moved."""
    data: dict[str, Any] = {"_id": p.conversation.id, "x": p.x, "y": p.y, "carry": p.carry}
    region = region_json(p)
    if region is not None:
        data["region"] = region
    if p.carry == "origin":  # made on the new version after all (its src was the new one)
        data["version"] = p.conversation.version
    return data


def thumbnail_path(tenant_id: str, url_id: str, version: int) -> str:
    """Where the widget gets a version's thumbnail (relative to the server's address)."""
    query = urlencode({"urlId": url_id, "version": version})
    return f"/image-versions/{quote(tenant_id, safe='')}/thumbnail?{query}"


def version_json(v: ImageVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "src": v.src,
        "width": v.width,
        "height": v.height,
        "createdAt": v.created_at,
        "thumbnail": thumbnail_path(v.tenant_id, v.url_id, v.version) if v.has_thumbnail
        else None,
        "carried": {"same": v.carried_same, "changed": v.carried_changed,
                    "lost": v.carried_lost},
        "fetchError": v.fetch_error,
    }


def api_comment_json(c: Comment) -> dict[str, Any]:
    """A comment in the reference's server-to-server shape (`APIComment`): `id` rather than
    `_id`, `date` in epoch milliseconds, and no key the reference's schema does not know
    (its generated clients refuse additional properties)."""
    return {
        "id": c.id,
        "tenantId": c.tenant_id,
        "urlId": c.url_id,
        "urlIdRaw": c.url_id,
        "url": c.url,
        "commenterName": c.commenter_name,
        "comment": c.comment,
        "commentHTML": c.comment_html,
        "date": c.created_at,
        "locale": None,
        "verified": c.verified,
        "approved": c.approved,
        "userId": c.user_id,
        "anonUserId": c.anon_user_id,
        "parentId": c.parent_id,
        "avatarSrc": c.avatar,
        "votes": c.votes,
        "votesUp": c.votes_up,
        "votesDown": c.votes_down,
        "isByAdmin": c.is_by_admin,
        "isByModerator": c.is_by_moderator,
        "mentions": [{"id": m.id, "tag": m.tag} for m in c.mentions],
    }


def page_json(p: Page, *, closed: bool) -> dict[str, Any]:
    """A thread in the reference's `APIPage` shape (`createdAt` is an ISO 8601 time there)."""
    return {
        "id": p.id,
        "urlId": p.url_id,
        "url": p.url,
        "title": p.title,
        "commentCount": p.comment_count,
        "rootCommentCount": p.root_comment_count,
        "createdAt": iso_from_ms(p.created_at),
        "isClosed": closed,
    }


def notification_json(n: Notification) -> dict[str, Any]:
    """A notification as the reference lists it (`RenderableUserNotification`), plus what
    the widget needs to open it: `kind`, the conversation and the channel (`urlIdWS`).

    `viewed` and `sent` are booleans, as in the reference's `UserNotification` and its
    clients (its document declares them strings in this shape).
    """
    return {
        "_id": n.id,
        "type": n.type,
        "kind": n.kind,
        "createdAt": iso_from_ms(n.created_at),
        "viewed": n.viewed,
        "sent": False,
        "optedOut": False,
        "relatedObjectType": 0,  # a comment (or, for resolutions, a conversation's thread)
        "relatedObjectId": n.comment_id or n.chat_id or n.url_id,
        "url": n.url,
        "urlId": n.url_id,
        "urlIdWS": n.channel_url_id,
        "conversationId": n.chat_id,
        "pageTitle": n.page_title or None,
        "fromCommentId": n.comment_id,
        "fromUserId": n.from_user_id,
        "fromUserName": n.from_name or None,
        "fromUserAvatarSrc": n.from_avatar,
        "contextHTML": html.escape(n.context),
    }


def notification_event_json(n: Notification) -> dict[str, Any]:
    """The `notification` of a live event: the reference's `UserNotification`, plus the
    same additions as the listing."""
    user_id, anon_user_id = (n.user_key[2:], None) if n.user_key.startswith("u:") \
        else (None, n.user_key[2:])
    return {
        "_id": n.id,
        "tenantId": n.tenant_id,
        "userId": user_id,
        "anonUserId": anon_user_id,
        "urlId": n.url_id,
        "url": n.url,
        "pageTitle": n.page_title or None,
        "relatedObjectType": 0,
        "relatedObjectId": n.comment_id or n.chat_id or n.url_id,
        "viewed": n.viewed,
        "isUnreadMessage": False,
        "sent": False,
        "createdAt": iso_from_ms(n.created_at),
        "type": n.type,
        "fromCommentId": n.comment_id,
        "fromUserName": n.from_name or None,
        "fromUserId": n.from_user_id,
        "fromUserAvatarSrc": n.from_avatar,
        "optedOut": False,
        "kind": n.kind,
        "urlIdWS": n.channel_url_id,
        "conversationId": n.chat_id,
        "contextHTML": html.escape(n.context),
    }


def known_user_json(u: KnownUser) -> dict[str, Any]:
    """A user as the reference's user search lists one (`UserSearchResult`)."""
    name = u.display_name or u.id
    return {"id": u.id, "name": name, "displayName": name, "avatarSrc": u.avatar,
            "type": "sso"}


def vote_json(v: Vote, url_id: str) -> dict[str, Any]:
    return {
        "_id": v.id,
        "tenantId": v.tenant_id,
        "urlId": url_id,
        "urlIdRaw": url_id,
        "commentId": v.comment_id,
        "userId": v.user_id,
        "direction": v.direction,
        "createdAt": v.created_at,
        "verificationId": None,
    }


def user_json(actor: Actor) -> dict[str, Any] | None:
    """The signed-in user as the widget shows it; anonymous visitors have none."""
    if actor.user_id is None:
        return None
    return {
        "id": actor.user_id,
        "username": actor.display_name,
        "displayName": actor.display_name,
        "avatarSrc": actor.avatar,
        "isAdmin": actor.is_admin,
        "isModerator": actor.is_moderator,
        "verified": actor.verified,
    }


def ban_json(b: Ban) -> dict[str, Any]:
    return {"userId": b.user_id, "anonUserId": b.anon_user_id, "reason": b.reason,
            "createdBy": b.created_by, "createdAt": b.created_at}


def moderation_entry_json(e: ModerationEntry) -> dict[str, Any]:
    return {"id": e.id, "actor": e.actor, "action": e.action, "target": e.target,
            "detail": e.detail, "createdAt": e.created_at}


def webhook_json(e: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as lists show it: never its secret."""
    return {
        "id": e.id,
        "url": e.url,
        "events": list(e.events),
        "createdAt": e.created_at,
        "failingSince": e.failing_since,
        "disabled": e.disabled_at is not None,
        "disabledAt": e.disabled_at,
        "disabledReason": e.disabled_reason or None,
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "endpointId": d.target,
        "event": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "nextAttemptAt": d.next_attempt_at if d.status == "pending" else None,
        "lastAttemptAt": d.last_attempt_at,
        "responseCode": d.last_status_code,
        "error": d.last_error or None,
        "response": d.last_response or None,
        "createdAt": d.created_at,
        "finishedAt": d.finished_at,
    }
