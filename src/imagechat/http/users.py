"""/user-search: whom a visitor can mention (the reference's user search)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from imagechat.http.deps import READ_QUERY, actor_of, services_of, tenant_of
from imagechat.http.openapi import READ_FAILURES, replies
from imagechat.http.reply_models import SearchUsersResponse
from imagechat.wire.present import known_user_json

router = APIRouter(tags=["notifications"])


@router.get("/user-search/{tenantId}", dependencies=READ_QUERY,
            responses=replies(SearchUsersResponse, READ_FAILURES))
async def search_users(
    request: Request, tenantId: str,
    urlId: str | None = Query(None, description="The thread being written in (accepted, "
                              "not needed)."),
    usernameStartsWith: str | None = Query(None, max_length=100),
) -> dict[str, Any]:
    """Signed-in users of the site whose name starts with `usernameStartsWith`, for the
    composer's `@` suggestions. Anonymous visitors are never listed."""
    tenant = await tenant_of(request, tenantId)
    found = await services_of(request).users.search(tenant, actor_of(request, tenant),
                                                    usernameStartsWith)
    return {"status": "success", "users": [known_user_json(u) for u in found]}
