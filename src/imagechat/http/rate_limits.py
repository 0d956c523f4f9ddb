"""Write limits for the REST API, as a router dependency: every write route is covered,
including ones added later, without matching paths."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from imagechat.domain.actor import Actor
from imagechat.domain.errors import ImageChatError
from imagechat.domain.models import Tenant
from imagechat.http.deps import actor_of, tenant_of
from imagechat.rate_limit.policy import RateLimits, visitor_key

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def rate_limits_of(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


async def limit_writes(request: Request) -> None:
    """Counts a widget write against its visitor and its tenant; 429 when either is over."""
    limits = rate_limits_of(request)
    if request.method in _READS or not limits.limits_writes:
        return
    # An unknown tenant fails here as it would in the route (404), before anything counts.
    # The widget's routes name their tenant in the path, the reference's notification
    # routes in the query.
    tenant = await tenant_of(request, request.path_params.get("tenantId")
                             or request.query_params.get("tenantId", ""))
    actor = await _signed_in_actor(request, tenant)
    client = request.client.host if request.client else None
    await limits.check_write(tenant.id, visitor_key(actor, client))


async def limit_backend_writes(request: Request, tenant: Tenant) -> None:
    """Counts a server-to-server write against its tenant (call once the API key is checked:
    requests with a wrong key must not use up the tenant's budget)."""
    limits = rate_limits_of(request)
    if request.method not in _READS and limits.limits_writes:
        await limits.check_write(tenant.id, None)


async def _signed_in_actor(request: Request, tenant: Tenant) -> Actor | None:
    """Who the request says it is, or None when that cannot be read; the route itself
    reports a bad token or body (this runs first, and must not answer differently)."""
    # Starlette keeps the body on the request, so the route reads the same bytes again.
    raw = await request.body()
    body: Any = None
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
    try:
        return actor_of(request, tenant, body)
    except ImageChatError:
        return None
