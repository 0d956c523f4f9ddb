"""/api/v1: the server-to-server API, for integrations without a browser.

Every call names its tenant (`tenantId` query) and proves it with the tenant's API secret
(`X-API-Key` header, or `API_KEY` query as in the reference). A wrong secret is a 401
whatever the tenant, so the answer does not reveal which tenants exist. Writes count against
the tenant's write limit (not a visitor's), once the secret has been checked.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request

from imagechat.auth.api_secret import backend_actor
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import NotAuthenticated, NotFound
from imagechat.domain.models import Tenant
from imagechat.http.deps import services_of
from imagechat.http.openapi import BACKEND_WRITE_FAILURES, READ_FAILURES, replies
from imagechat.http.rate_limits import limit_backend_writes
from imagechat.http.reply_models import (
    BackendComment,
    BackendComments,
    BackendImageChat,
    BackendImageChats,
    Success,
    Usage,
)
from imagechat.store import conversations
from imagechat.wire.present import chat_detail_json, comment_json


def _api_key_query(
    API_KEY: str | None = Query(None, description="The tenant's API secret, where a header "
                                "cannot be sent; the X-API-Key header is preferred."),
) -> None:
    """Read by `_backend`; declared for the OpenAPI document."""


router = APIRouter(prefix="/api/v1", tags=["server-to-server"],
                   dependencies=[Depends(_api_key_query)])


async def backend_of(
    request: Request, tenant_id: str, header_key: str | None
) -> tuple[Tenant, Actor]:
    rules.require_id(tenant_id, "tenantId")
    presented = header_key or request.query_params.get("API_KEY")
    try:
        tenant = await services_of(request).tenants.get(tenant_id)
    except NotFound:
        raise NotAuthenticated("The API secret does not match this tenant.",
                               "api-key-invalid") from None
    actor = backend_actor(tenant, presented)
    await limit_backend_writes(request, tenant)
    return tenant, actor


@router.get("/image-chats", responses=replies(BackendImageChats, READ_FAILURES))
async def list_image_chats(
    request: Request, tenantId: str, urlId: str | None = None,
    skip: int = Query(0, ge=0, le=1_000_000_000), limit: int = Query(100, ge=1, le=1000),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    services = services_of(request)
    if urlId is not None:
        url_id = rules.clean_url_id(urlId)
        async with services.db.read() as conn:
            rows = await conversations.list_for_image(conn, tenant.id, url_id, limit, skip)
    else:
        async with services.db.read() as conn:
            rows = await conversations.list_for_tenant(conn, tenant.id, limit, skip)
    return {"status": "success", "imageChats": [chat_detail_json(c) for c in rows]}


@router.get("/image-chats/{chatId}", responses=replies(BackendImageChat, READ_FAILURES))
async def get_image_chat(
    request: Request, chatId: str, tenantId: str, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    chat = await services_of(request).image_chats.get(tenant, chatId)
    return {"status": "success", "imageChat": chat_detail_json(chat)}


@router.delete("/image-chats/{chatId}", responses=replies(Success, BACKEND_WRITE_FAILURES))
async def delete_image_chat(
    request: Request, chatId: str, tenantId: str, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).image_chats.delete(tenant, actor, chatId, None, None)
    return {"status": "success"}


@router.get("/comments", responses=replies(BackendComments, READ_FAILURES))
async def list_comments(
    request: Request, tenantId: str, urlId: str, page: int = Query(0, ge=0, le=1_000_000),
    count: int = Query(limits.DEFAULT_PAGE_SIZE, ge=1, le=limits.MAX_PAGE_SIZE),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    result = await services_of(request).comments.page(tenant, urlId, page, count)
    return {"status": "success", "comments": [comment_json(c) for c in result.comments],
            "commentCount": result.total, "hasMore": result.has_more}


@router.get("/comments/{commentId}", responses=replies(BackendComment, READ_FAILURES))
async def get_comment(
    request: Request, commentId: str, tenantId: str,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    comment = await services_of(request).comments.get(tenant, commentId)
    return {"status": "success", "comment": comment_json(comment)}


@router.delete("/comments/{commentId}", responses=replies(Success, BACKEND_WRITE_FAILURES))
async def delete_comment(
    request: Request, commentId: str, tenantId: str,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).comments.delete(tenant, actor, commentId, None, None)
    return {"status": "success"}


@router.get("/usage", responses=replies(Usage, READ_FAILURES))
async def usage(
    request: Request, tenantId: str,
    from_: int = Query(0, alias="from", ge=0, description="Epoch ms, inclusive."),
    to: int | None = Query(None, ge=0, description="Epoch ms, inclusive; default now."),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    services = services_of(request)
    end = to if to is not None else services.clock.now_ms()
    buckets = await services.history.usage(tenant, from_, end)
    return {
        "status": "success",
        "usage": [
            {"hour": b.hour, "pubSubMessageCount": b.pubsub_message_count,
             "pubSubBandwidth": b.pubsub_bandwidth,
             "conversationCreateCount": b.conversation_create_count,
             "commentCreateCount": b.comment_create_count, "peakViewers": b.peak_viewers}
            for b in buckets
        ],
    }
