"""/comments: the messages of a conversation (SPEC §2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from imagechat.domain import limits
from imagechat.http.deps import (
    CHANGE_QUERY,
    COMMENT_WRITE_QUERY,
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
    CastVote,
    CommentPage,
    PostedComment,
    RemovedVote,
    Success,
    UpdatedComment,
)
from imagechat.http.schemas import OPTIONAL_KEYS_BODY, PostCommentBody, UpdateTextBody, VoteBody
from imagechat.services.comment_drafts import CommentDraft
from imagechat.wire.present import comment_json, user_json, vote_json

# Every write here counts against the visitor's and the tenant's rate limits.
router = APIRouter(tags=["comments"], dependencies=[Depends(limit_writes)])


@router.get("/comments/{tenantId}", dependencies=READ_QUERY,
            responses=replies(CommentPage, READ_FAILURES))
async def list_comments(
    request: Request, tenantId: str, urlId: str, page: int = 0,
    count: int = limits.DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    actor = actor_of(request, tenant)
    result = await services_of(request).comments.page(tenant, urlId, page, count)
    return {
        "status": "success",
        "comments": [comment_json(c) for c in result.comments],
        "user": user_json(actor),
        "pageNumber": result.page,
        "commentCount": result.total,
        "hasMore": result.has_more,
        "isSiteAdmin": actor.is_admin,
        **ws_ids(tenant, urlId, actor),
    }


@router.post("/comments/{tenantId}", dependencies=COMMENT_WRITE_QUERY,
             responses=replies(PostedComment, WRITE_FAILURES))
async def post_comment(request: Request, tenantId: str, body: PostCommentBody) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    url_id = request.query_params.get("urlId") or body.urlId
    posted = await services_of(request).comments.post(
        tenant, actor, url_id,
        CommentDraft(text=body.comment, commenter_name=body.commenterName, url=body.url,
                     parent_id=body.parentId),
        broadcast_id_of(request, raw),
    )
    result: dict[str, Any] = {
        "status": "success",
        "comment": comment_json(posted.comment),
        "user": user_json(actor),
    }
    if posted.edit_key is not None:
        result["editKey"] = posted.edit_key
    return result


@router.post("/comments/{tenantId}/{commentId}/update-text",
             dependencies=CHANGE_QUERY, responses=replies(UpdatedComment, WRITE_FAILURES))
async def update_comment_text(
    request: Request, tenantId: str, commentId: str, body: UpdateTextBody
) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    updated = await services_of(request).comments.update_text(
        tenant, actor, commentId, body.comment, edit_key_of(request, raw),
        broadcast_id_of(request, raw),
    )
    return {"status": "success", "comment": comment_json(updated)}


@router.delete("/comments/{tenantId}/{commentId}", dependencies=CHANGE_QUERY,
               responses=replies(Success, WRITE_FAILURES), openapi_extra=OPTIONAL_KEYS_BODY)
async def delete_comment(request: Request, tenantId: str, commentId: str) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    body = await optional_body(request)
    actor = actor_of(request, tenant, body)
    await services_of(request).comments.delete(
        tenant, actor, commentId, edit_key_of(request, body), broadcast_id_of(request, body)
    )
    return {"status": "success"}


@router.post("/comments/{tenantId}/{commentId}/vote",
             dependencies=COMMENT_WRITE_QUERY, responses=replies(CastVote, WRITE_FAILURES))
async def vote(request: Request, tenantId: str, commentId: str, body: VoteBody) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    cast = await services_of(request).votes.vote(
        tenant, actor, commentId, body.voteDir, broadcast_id_of(request, raw)
    )
    return {
        "status": "success",
        "voteId": cast.vote.id,
        "isVerified": actor.verified,
        "votes": cast.comment_votes,
        "vote": vote_json(cast.vote, request.query_params.get("urlId") or ""),
    }


@router.delete("/comments/{tenantId}/{commentId}/vote/{voteId}",
               dependencies=WRITE_QUERY, responses=replies(RemovedVote, WRITE_FAILURES),
               openapi_extra=OPTIONAL_KEYS_BODY)
async def unvote(request: Request, tenantId: str, commentId: str, voteId: str) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    body = await optional_body(request)
    actor = actor_of(request, tenant, body)
    await services_of(request).votes.unvote(
        tenant, actor, commentId, voteId, broadcast_id_of(request, body)
    )
    return {"status": "success", "wasPendingVote": False}
