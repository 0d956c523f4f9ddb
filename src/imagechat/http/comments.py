"""/comments: the comments of a thread, at any urlId of a tenant (a page, or a
conversation's `windowUrlId`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

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
    DeletedComment,
    PostedComment,
    Reacted,
    RemovedVote,
    UpdatedComment,
)
from imagechat.http.schemas import (
    OPTIONAL_KEYS_BODY,
    PostCommentBody,
    ReactionBody,
    UpdateTextBody,
    VoteBody,
)
from imagechat.services.comment_drafts import CommentDraft
from imagechat.wire.present import comment_json, user_json, vote_json

# Every write here counts against the visitor's and the tenant's rate limits.
router = APIRouter(tags=["comments"], dependencies=[Depends(limit_writes)])


@router.get("/comments/{tenantId}", dependencies=READ_QUERY,
            responses=replies(CommentPage, READ_FAILURES))
async def list_comments(
    request: Request, tenantId: str, urlId: str, page: int = 0,
    count: int = limits.DEFAULT_PAGE_SIZE,
    limit: int | None = Query(None, ge=1, le=limits.MAX_PAGE_SIZE,
                              description="The reference's name for `count`."),
    skip: int | None = Query(None, ge=0, le=1_000_000_000,
                             description="Start after this many comments (instead of `page`)."),
    direction: str | None = Query(None, description="OF (oldest first, the default), NF "
                                  "(newest first) or MR (most votes first)."),
) -> dict[str, Any]:
    """The comments of one thread, oldest first by default, paged. `urlIdWS` is the
    channel that carries the thread's events: its image's, for a conversation's thread."""
    tenant = await tenant_of(request, tenantId)
    actor = actor_of(request, tenant)
    result = await services_of(request).comments.page(tenant, urlId, page, limit or count,
                                                      direction, skip, reader=actor)
    chat_id = result.thread.chat_id
    return {
        "status": "success",
        "comments": [comment_json(c, chat_id, reactions=result.reactions.get(c.id, {}),
                                  mine=result.my_reactions.get(c.id, []))
                     for c in result.comments],
        "user": user_json(actor),
        "urlIdClean": result.thread.url_id,
        "pageNumber": result.page,
        "commentCount": result.total,
        "hasMore": result.has_more,
        "isSiteAdmin": actor.is_admin,
        "isClosed": result.locked,
        **ws_ids(tenant, result.thread.channel, actor),
    }


@router.post("/comments/{tenantId}", dependencies=COMMENT_WRITE_QUERY,
             responses=replies(PostedComment, WRITE_FAILURES))
async def post_comment(request: Request, tenantId: str, body: PostCommentBody) -> dict[str, Any]:
    """Post a comment at any urlId: the thread exists from its first comment."""
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    url_id = request.query_params.get("urlId") or body.urlId
    posted = await services_of(request).comments.post(
        tenant, actor, url_id,
        CommentDraft(text=body.comment, commenter_name=body.commenterName, url=body.url,
                     parent_id=body.parentId, page_title=body.pageTitle,
                     mentions=body.mentions),
        broadcast_id_of(request, raw),
    )
    comment = comment_json(posted.comment, posted.thread.chat_id, reactions={}, mine=[])
    result: dict[str, Any] = {"status": "success", "comment": comment, "user": user_json(actor),
                              "userIdWS": ws_ids(tenant, posted.thread.channel,
                                                 actor)["userIdWS"]}
    if posted.edit_key is not None:
        # Where the reference puts it (in the comment), and where ImageChat always did.
        comment["editKey"] = posted.edit_key
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
        broadcast_id_of(request, raw), mentions=body.mentions,
    )
    return {"status": "success", "comment": comment_json(updated.comment,
                                                         updated.thread.chat_id)}


@router.delete("/comments/{tenantId}/{commentId}", dependencies=CHANGE_QUERY,
               responses=replies(DeletedComment, WRITE_FAILURES),
               openapi_extra=OPTIONAL_KEYS_BODY)
async def delete_comment(request: Request, tenantId: str, commentId: str) -> dict[str, Any]:
    tenant = await tenant_of(request, tenantId)
    body = await optional_body(request)
    actor = actor_of(request, tenant, body)
    await services_of(request).comments.delete(
        tenant, actor, commentId, edit_key_of(request, body), broadcast_id_of(request, body)
    )
    # The reference's answer: deletions here are always hard (the comment is gone).
    return {"status": "success", "hardRemoved": True}


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


@router.post("/comments/{tenantId}/{commentId}/reactions", dependencies=WRITE_QUERY,
             responses=replies(Reacted, WRITE_FAILURES))
async def react(
    request: Request, tenantId: str, commentId: str, body: ReactionBody
) -> dict[str, Any]:
    """Put or take back one emoji (👍 ❤️ 🎉 👀 ✅) on a comment, one of each per visitor.
    Viewers get `updated-comment` with the new counts."""
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    done = await services_of(request).reactions.set(
        tenant, actor, commentId, body.emoji, body.on, broadcast_id_of(request, raw))
    return {"status": "success", "comment": comment_json(
        done.comment, done.thread.chat_id, reactions=done.counts, mine=done.mine)}
