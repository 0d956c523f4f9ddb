"""/api/v1 moderation for a site's backend: locks, bans and the moderation log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request

from imagechat.http.deps import services_of
from imagechat.http.openapi import BACKEND_WRITE_FAILURES, READ_FAILURES, replies
from imagechat.http.reply_models import Banned, Bans, Locked, ModerationLog, Success
from imagechat.http.schemas import BanBody, LockBody
from imagechat.http.server_api import backend_of
from imagechat.wire.present import ban_json, moderation_entry_json

router = APIRouter(prefix="/api/v1", tags=["server-to-server"])


@router.post("/image-lock", responses=replies(Locked, BACKEND_WRITE_FAILURES))
async def lock_image(
    request: Request, tenantId: str, urlId: str, body: LockBody,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).moderation.set_locked(tenant, actor, urlId, body.locked)
    return {"status": "success", "locked": body.locked}


@router.get("/bans", responses=replies(Bans, READ_FAILURES))
async def list_bans(
    request: Request, tenantId: str, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    bans = await services_of(request).moderation.list_bans(tenant)
    return {"status": "success", "bans": [ban_json(b) for b in bans]}


@router.post("/bans", responses=replies(Banned, BACKEND_WRITE_FAILURES))
async def ban_user(
    request: Request, tenantId: str, body: BanBody, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    ban = await services_of(request).moderation.ban(
        tenant, actor, user_id=body.userId, anon_user_id=body.anonUserId, reason=body.reason)
    return {"status": "success", "ban": ban_json(ban)}


@router.delete("/bans", responses=replies(Success, BACKEND_WRITE_FAILURES))
async def unban_user(
    request: Request, tenantId: str, userId: str | None = None, anonUserId: str | None = None,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    tenant, actor = await backend_of(request, tenantId, x_api_key)
    await services_of(request).moderation.unban(tenant, actor, user_id=userId,
                                                anon_user_id=anonUserId)
    return {"status": "success"}


@router.get("/moderation-log", responses=replies(ModerationLog, READ_FAILURES))
async def moderation_log(
    request: Request, tenantId: str, limit: int = Query(100, ge=1, le=500),
    before: int | None = Query(None, ge=0, le=2**53, description="Epoch ms, exclusive."),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Who locked, banned or deleted what, newest first; page with `before`."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    entries = await services_of(request).moderation.log(tenant, limit=limit, before_ms=before)
    return {"status": "success", "entries": [moderation_entry_json(e) for e in entries]}
