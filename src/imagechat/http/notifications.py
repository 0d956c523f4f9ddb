"""/user-notifications: the reference's in-app notifications, and following threads.

As in the reference, these name their tenant in the query (`tenantId`). Whose bell it is
comes from the `sso` token, or for anonymous visitors from their `anonUserId`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from imagechat.http.deps import READ_QUERY, actor_of, services_of, tenant_of
from imagechat.http.openapi import READ_FAILURES, WRITE_FAILURES, replies
from imagechat.http.rate_limits import limit_writes
from imagechat.http.reply_models import (
    GetMyNotificationsResponse,
    GetUserNotificationCountResponse,
    Success,
    UserNotificationWriteResponse,
)
from imagechat.wire.present import notification_json

router = APIRouter(prefix="/user-notifications", tags=["notifications"],
                   dependencies=READ_QUERY)


@router.get("", responses=replies(GetMyNotificationsResponse, READ_FAILURES))
async def list_notifications(
    request: Request, tenantId: str,
    urlId: str | None = Query(None, description="A thread: `isSubscribed` says whether "
                              "the reader follows it."),
    pageSize: int | None = Query(None, ge=1, le=100), afterId: str | None = None,
    unreadOnly: bool = False,
) -> dict[str, Any]:
    """The reader's notifications, newest first; `afterId` continues after one."""
    tenant = await tenant_of(request, tenantId)
    actor = actor_of(request, tenant)
    found = await services_of(request).notifications.page(
        tenant, actor, url_id=urlId, page_size=pageSize, after_id=afterId,
        unread_only=unreadOnly)
    return {"status": "success",
            "notifications": [notification_json(n) for n in found.notifications],
            "hasMore": found.has_more, "isSubscribed": found.following}


@router.get("/get-count", responses=replies(GetUserNotificationCountResponse, READ_FAILURES))
async def unread_count(request: Request, tenantId: str) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    count = await services_of(request).notifications.unread_count(tenant,
                                                                  actor_of(request, tenant))
    return {"status": "success", "count": count}


@router.post("/reset", dependencies=[Depends(limit_writes)],
             responses=replies(Success, WRITE_FAILURES))
async def mark_all_read(request: Request, tenantId: str) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    await services_of(request).notifications.reset(tenant, actor_of(request, tenant))
    return {"status": "success"}


@router.post("/set-subscription-state/{subscribedOrUnsubscribed}",
             dependencies=[Depends(limit_writes)],
             responses=replies(UserNotificationWriteResponse, WRITE_FAILURES))
async def set_following(
    request: Request, tenantId: str, subscribedOrUnsubscribed: str, urlId: str,
    url: str | None = None, pageTitle: str | None = None,
) -> dict[str, Any]:
    """Follow (`subscribe`) or unfollow (`unsubscribe`) a thread: followers hear of every
    new comment in it."""
    tenant = await tenant_of(request, tenantId)
    matched, modified = await services_of(request).notifications.set_following(
        tenant, actor_of(request, tenant), urlId, subscribedOrUnsubscribed, url=url,
        page_title=pageTitle)
    return {"status": "success", "matchedCount": matched, "modifiedCount": modified}


@router.post("/{notificationId}/mark/{newStatus}", dependencies=[Depends(limit_writes)],
             responses=replies(UserNotificationWriteResponse, WRITE_FAILURES))
async def mark(
    request: Request, tenantId: str, notificationId: str, newStatus: str
) -> dict[str, Any]:
    """Mark one notification `read` or `unread`."""
    tenant = await tenant_of(request, tenantId)
    matched, modified = await services_of(request).notifications.mark(
        tenant, actor_of(request, tenant), notificationId, newStatus)
    return {"status": "success", "matchedCount": matched, "modifiedCount": modified}
