"""/api/v1: the server-to-server API, for integrations without a browser.

Every call names its tenant (`tenantId` query) and proves it with the tenant's API secret
(`X-API-Key` header, or `API_KEY` query as in the reference). A wrong secret is a 401
whatever the tenant, so the answer does not reveal which tenants exist. Writes count against
the tenant's write limit (not a visitor's), once the secret has been checked.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request

from imagechat.auth.api_secret import backend_actor
from imagechat.domain import rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import NotAuthenticated, NotFound
from imagechat.domain.models import Tenant
from imagechat.http.api_models import (
    APIEmptyResponse,
    APIGetCommentResponse,
    APIGetCommentsResponse,
    APISaveCommentResponse,
    CreateCommentParams,
    DeleteCommentResult,
    GetPageByURLIdAPIResponse,
    GetPagesAPIResponse,
    UpdatableCommentParams,
)
from imagechat.http.deps import broadcast_id_of, services_of
from imagechat.http.openapi import BACKEND_WRITE_FAILURES, READ_FAILURES, replies
from imagechat.http.rate_limits import limit_backend_writes
from imagechat.http.reply_models import BackendImageChat, BackendImageChats, Success, Usage
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.comments import CommentChanges, CommentQuery
from imagechat.wire.present import api_comment_json, conversation_detail_json, page_json

# Comments per answer of GET /api/v1/comments, by default and at most.
API_PAGE_SIZE = 100
API_MAX_PAGE_SIZE = 1000


def _api_key_query(
    API_KEY: str | None = Query(None, description="The tenant's API secret, where a header "
                                "cannot be sent; the X-API-Key header is preferred."),
) -> None:
    """Read by `_backend`; declared for the OpenAPI document."""


API_KEY_QUERY = [Depends(_api_key_query)]
router = APIRouter(prefix="/api/v1", tags=["server-to-server"], dependencies=API_KEY_QUERY)


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
    rows = await services_of(request).image_chats.page(tenant, urlId, limit=limit, offset=skip)
    return {"status": "success", "imageChats": [conversation_detail_json(c) for c in rows]}


@router.get("/image-chats/{chatId}", responses=replies(BackendImageChat, READ_FAILURES))
async def get_image_chat(
    request: Request, chatId: str, tenantId: str, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    conversation = await services_of(request).image_chats.get(tenant, chatId)
    return {"status": "success", "imageChat": conversation_detail_json(conversation)}


@router.delete("/image-chats/{chatId}", responses=replies(Success, BACKEND_WRITE_FAILURES))
async def delete_image_chat(
    request: Request, chatId: str, tenantId: str, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).image_chats.delete(tenant, actor, chatId, None, None)
    return {"status": "success"}


# The reference's comment and page routes, in its shapes (http/api_models.py).

@router.get("/comments", responses=replies(APIGetCommentsResponse, READ_FAILURES))
async def list_comments(
    request: Request, tenantId: str, urlId: str | None = None,
    page: int | None = Query(None, ge=0, le=1_000_000,
                             description="A page of `limit` comments (instead of `skip`)."),
    limit: int = Query(API_PAGE_SIZE, ge=1, le=API_MAX_PAGE_SIZE),
    skip: int = Query(0, ge=0, le=1_000_000_000),
    direction: str | None = Query(None, description="OF (oldest first, the default), NF "
                                  "(newest first) or MR (most votes first)."),
    userId: str | None = None, anonUserId: str | None = None, parentId: str | None = None,
    fromDate: int | None = Query(None, ge=0, description="Epoch ms, inclusive."),
    toDate: int | None = Query(None, ge=0, description="Epoch ms, inclusive."),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Comments of the tenant, of one thread (`urlId`), one author or one parent."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    found = await services_of(request).comments.search(tenant, CommentQuery(
        url_id=urlId, user_id=userId, anon_user_id=anonUserId, parent_id=parentId,
        from_ms=fromDate, to_ms=toDate, direction=direction,
        offset=page * limit if page is not None else skip, limit=limit))
    return {"status": "success", "comments": [api_comment_json(c) for c in found]}


@router.post("/comments", responses=replies(APISaveCommentResponse, BACKEND_WRITE_FAILURES))
async def save_comment(
    request: Request, tenantId: str, body: CreateCommentParams,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Post a comment for the site, at any urlId; `userId` names its author."""
    tenant, backend = await backend_of(request, tenantId, x_api_key)
    author = replace(backend, user_id=rules.optional_id(body.userId, "userId"),
                     avatar=body.avatarSrc, verified=bool(body.verified))
    posted = await services_of(request).comments.post(
        tenant, author, body.urlId,
        CommentDraft(text=body.comment, commenter_name=body.commenterName, url=body.url,
                     parent_id=body.parentId, page_title=body.pageTitle, date=body.date),
        broadcast_id_of(request),
    )
    return {"status": "success", "comment": api_comment_json(posted.comment), "user": None}


@router.get("/comments/{id}", responses=replies(APIGetCommentResponse, READ_FAILURES))
async def get_comment(
    request: Request, id: str, tenantId: str, x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    loaded = await services_of(request).comments.get(tenant, id)
    return {"status": "success", "comment": api_comment_json(loaded.comment)}


@router.patch("/comments/{id}", responses=replies(APIEmptyResponse, BACKEND_WRITE_FAILURES))
async def update_comment(
    request: Request, id: str, tenantId: str, body: UpdatableCommentParams,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Change a comment's text, author name, avatar, or approved and verified flags."""
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).comments.edit(tenant, actor, id, CommentChanges(
        text=body.comment, commenter_name=body.commenterName, avatar=body.avatarSrc,
        approved=body.approved, verified=body.verified), broadcast_id_of(request))
    return {"status": "success"}


@router.delete("/comments/{id}", responses=replies(DeleteCommentResult, BACKEND_WRITE_FAILURES))
async def delete_comment(
    request: Request, id: str, tenantId: str, x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Delete a comment and its replies (a conversation goes with its last comment)."""
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).comments.delete(tenant, actor, id, None, broadcast_id_of(request))
    return {"status": "success", "action": "hard-removed"}


@router.get("/pages", responses=replies(GetPagesAPIResponse, READ_FAILURES))
async def list_pages(
    request: Request, tenantId: str,
    skip: int = Query(0, ge=0, le=1_000_000_000),
    limit: int = Query(API_MAX_PAGE_SIZE, ge=1, le=API_MAX_PAGE_SIZE),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Every thread of the tenant with comments (pages and conversations' threads),
    oldest first."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    found = await services_of(request).pages.page(tenant, limit=limit, offset=skip)
    return {"status": "success",
            "pages": [page_json(p.page, closed=p.closed) for p in found]}


@router.get("/pages/by-url-id", responses=replies(GetPageByURLIdAPIResponse, READ_FAILURES))
async def page_by_url_id(
    request: Request, tenantId: str, urlId: str, x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    found = await services_of(request).pages.by_url_id(tenant, urlId)
    if found is None:
        return {"status": "success"}
    return {"status": "success", "page": page_json(found.page, closed=found.closed)}


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
