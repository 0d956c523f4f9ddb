"""Moderation from the widget: lock an image, ban or unban a visitor (SSO moderators).

The same actions for a site's backend are under /api/v1 (`server_moderation`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from imagechat.http.deps import actor_of, broadcast_id_of, services_of, tenant_of
from imagechat.http.openapi import WRITE_FAILURES, replies
from imagechat.http.rate_limits import limit_writes
from imagechat.http.reply_models import Banned, Locked, Success
from imagechat.http.schemas import BanBody, LockBody
from imagechat.wire.present import ban_json

router = APIRouter(tags=["moderation"], dependencies=[Depends(limit_writes)])


@router.post("/lock-image/{tenantId}", responses=replies(Locked, WRITE_FAILURES))
async def lock_image(request: Request, tenantId: str, urlId: str, body: LockBody) -> dict[str, Any]:
    """Make an image read-only for everyone but moderators (`locked: false` reopens it)."""
    tenant = await tenant_of(request, tenantId)
    # Only the SSO token names who acts: `userId`/`anonUserId` fields elsewhere name a target.
    actor = actor_of(request, tenant, {"sso": body.sso})
    await services_of(request).moderation.set_locked(
        tenant, actor, urlId, body.locked,
        broadcast_id_of(request, {"broadcastId": body.broadcastId}))
    return {"status": "success", "locked": body.locked}


@router.post("/ban-user/{tenantId}", responses=replies(Banned, WRITE_FAILURES))
async def ban_user(request: Request, tenantId: str, body: BanBody) -> dict[str, Any]:
    """Ban a visitor from writing on this site: their writes then get 403 `banned`."""
    tenant = await tenant_of(request, tenantId)
    actor = actor_of(request, tenant, {"sso": body.sso})
    ban = await services_of(request).moderation.ban(
        tenant, actor, user_id=body.userId, anon_user_id=body.anonUserId, reason=body.reason)
    return {"status": "success", "ban": ban_json(ban)}


@router.delete("/ban-user/{tenantId}", responses=replies(Success, WRITE_FAILURES))
async def unban_user(
    request: Request, tenantId: str, userId: str | None = None, anonUserId: str | None = None
) -> dict[str, Any]:
    """Lift a ban. The moderator's token comes in the `sso` query parameter."""
    tenant = await tenant_of(request, tenantId)
    actor = actor_of(request, tenant, {"sso": request.query_params.get("sso")})
    await services_of(request).moderation.unban(tenant, actor, user_id=userId,
                                                anon_user_id=anonUserId)
    return {"status": "success"}
