"""/comment-image-chats: the conversations on an image."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from imagechat.http.deps import (
    CHANGE_QUERY,
    READ_QUERY,
    WRITE_QUERY,
    actor_of,
    broadcast_id_of,
    edit_key_of,
    services_of,
    tenant_of,
    ws_ids,
)
from imagechat.http.json_body import optional_body
from imagechat.http.openapi import READ_FAILURES, WRITE_FAILURES, replies
from imagechat.http.rate_limits import limit_writes
from imagechat.http.reply_models import (
    CreatedImageChat,
    ImageChatList,
    MovedConversation,
    ResolvedConversation,
    Success,
)
from imagechat.http.schemas import (
    OPTIONAL_KEYS_BODY,
    CreateImageChatBody,
    MoveImageChatBody,
    ResolveBody,
)
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.image_chats import MoveInput, NewImageChatInput
from imagechat.wire.present import comment_json, conversation_detail_json, user_json

# Every write here counts against the visitor's and the tenant's rate limits.
router = APIRouter(tags=["image chats"], dependencies=[Depends(limit_writes)])


@router.get("/comment-image-chats/{tenantId}", dependencies=READ_QUERY,
            responses=replies(ImageChatList, READ_FAILURES))
async def list_image_chats(
    request: Request, tenantId: str, urlId: str,
    version: int | None = Query(None, ge=1, le=1_000_000, description="The image version to "
                                "place the conversations on (default: the latest)."),
) -> dict[str, Any]:
    """The conversations of an image, each at its place on `version` (made on that
    version or an earlier one; `carry` says how it got there)."""
    tenant = await tenant_of(request, tenantId)
    actor = actor_of(request, tenant)
    listing = await services_of(request).image_chats.list(tenant, urlId, version)
    return {
        "status": "success",
        "user": user_json(actor),
        "conversations": [conversation_detail_json(c) for c in listing.conversations],
        "urlIdClean": listing.url_id,
        "isSiteAdmin": actor.is_admin,
        **ws_ids(tenant, listing.url_id, actor),
        "seq": listing.position.seq,
        "epoch": listing.position.epoch,
        "locked": listing.position.locked,
        # Every writer may resolve and reopen here (else authors, moderators and admins).
        "visitorsResolve": tenant.visitors_resolve,
        "version": listing.version,
        "latestVersion": listing.latest_version,
    }


@router.post("/comment-image-chats/{tenantId}", dependencies=WRITE_QUERY,
             responses=replies(CreatedImageChat, WRITE_FAILURES))
async def create_image_chat(
    request: Request, tenantId: str, body: CreateImageChatBody
) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    """Create a conversation over the thread at `windowUrlId`: over the comment named by
    `createdFromCommentId` (the reference's two steps), or with its first comment sent
    along (one request). A thread has one conversation: if another tab created it first,
    the answer is that conversation, with `existing: true`."""
    draft = None
    if body.comment is not None:
        draft = CommentDraft(text=body.comment, commenter_name=body.commenterName,
                             url=body.url, page_title=body.pageTitle, mentions=body.mentions)
    created = await services_of(request).image_chats.create(
        tenant, actor,
        NewImageChatInput(url_id=body.urlId, x=body.x, y=body.y,
                          window_url_id=body.windowUrlId, page_title=body.pageTitle,
                          src=body.src, url=body.url,
                          created_from_comment_id=body.createdFromCommentId,
                          first_comment=draft, region=body.region, version=body.version),
        broadcast_id_of(request, raw),
    )
    result: dict[str, Any] = {
        "status": "success",
        "createdChatId": created.conversation.id,
        "chat": conversation_detail_json(created.placed or created.conversation),
        "user": user_json(actor),
        "existing": created.existed,
    }
    if created.comment is not None:
        result["comment"] = comment_json(created.comment, created.conversation.id, reactions={},
                                         mine=[])
    if created.edit_key is not None:
        result["editKey"] = created.edit_key
    return result


@router.delete("/comment-image-chats/{tenantId}/{chatId}", dependencies=CHANGE_QUERY,
               responses=replies(Success, WRITE_FAILURES), openapi_extra=OPTIONAL_KEYS_BODY)
async def delete_image_chat(request: Request, tenantId: str, chatId: str) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    body = await optional_body(request)
    actor = actor_of(request, tenant, body)
    await services_of(request).image_chats.delete(
        tenant, actor, chatId, broadcast_id_of(request, body), edit_key_of(request, body)
    )
    return {"status": "success"}


@router.post("/comment-image-chats/{tenantId}/{chatId}/resolve", dependencies=CHANGE_QUERY,
             responses=replies(ResolvedConversation, WRITE_FAILURES))
async def resolve_image_chat(
    request: Request, tenantId: str, chatId: str, body: ResolveBody
) -> dict[str, Any]:
    """Resolve (`resolved: true`) or reopen a conversation: its author, moderators and
    admins, or every visitor who may write where the site allows it. Viewers get
    `image-chat-updated`."""
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    conversation = await services_of(request).image_chats.resolve(
        tenant, actor, chatId, body.resolved, broadcast_id_of(request, raw),
        edit_key_of(request, raw))
    return {"status": "success", "chat": conversation_detail_json(conversation)}


@router.post("/comment-image-chats/{tenantId}/{chatId}/move", dependencies=CHANGE_QUERY,
             responses=replies(MovedConversation, WRITE_FAILURES))
async def move_image_chat(
    request: Request, tenantId: str, chatId: str, body: MoveImageChatBody
) -> dict[str, Any]:
    """Move a conversation's point or region on a version of its image (default: the
    latest): its author, moderators and admins. A `lost` conversation dragged into place on a later
    version becomes `moved` there. Viewers get `image-chat-updated`."""
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    moved = await services_of(request).image_chats.move(
        tenant, actor, chatId,
        MoveInput(x=body.x, y=body.y, region=body.region,
                  region_sent="region" in body.model_fields_set, version=body.version),
        broadcast_id_of(request, raw), edit_key_of(request, raw))
    return {"status": "success", "chat": conversation_detail_json(moved)}
