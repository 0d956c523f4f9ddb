"""What every route needs: the services, the tenant, and who is acting."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Depends, Query, Request

from imagechat.auth.identity import resolve_actor
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.models import Tenant
from imagechat.services.container import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def tenant_of(request: Request, tenant_id: str) -> Tenant:
    rules.require_id(tenant_id, "tenantId")
    return await services_of(request).tenants.get(tenant_id)


def actor_of(request: Request, tenant: Tenant, body: Any = None) -> Actor:
    """The visitor, from `sso`/`anonUserId` in the query string or the JSON body."""
    query = request.query_params
    sso_token = query.get("sso")
    anon = query.get("anonUserId")
    if isinstance(body, dict):
        # The body wins only where it says something: validated bodies carry None for
        # fields the client did not send.
        if body.get("sso") is not None:
            sso_token = body["sso"]
        if body.get("anonUserId") is not None:
            anon = body["anonUserId"]
    return resolve_actor(tenant, sso_token=sso_token, anon_user_id=anon,
                         now_ms=services_of(request).clock.now_ms())


def broadcast_id_of(request: Request, body: Any = None) -> str | None:
    value = request.query_params.get("broadcastId")
    if isinstance(body, dict) and body.get("broadcastId") is not None:
        value = body.get("broadcastId")
    return rules.optional_id(value, "broadcastId")


def edit_key_of(request: Request, body: Any = None) -> str | None:
    value = request.query_params.get("editKey")
    if isinstance(body, dict) and isinstance(body.get("editKey"), str):
        value = body["editKey"]
    return value or None


def ws_ids(tenant: Tenant, url_id: str, actor: Actor) -> dict[str, Any]:
    """Ids the widget needs to open its live connection."""
    return {
        "tenantIdWS": tenant.id,
        "urlIdWS": url_id,
        "userIdWS": actor.ws_user_id or f"v-{secrets.token_hex(8)}",
    }


_ID_SCHEMA = {"pattern": rules.ID_PATTERN, "maxLength": limits.MAX_ID_CHARS}

# The query parameters the helpers above read from `request.query_params`, declared for the
# OpenAPI document (they are plain text, so declaring them refuses nothing). Each may come
# in the JSON body instead, where the route has one.


async def _visitor_query(
    sso: str | None = Query(None, description="Secure or Simple SSO token, as JSON text."),
    anonUserId: str | None = Query(None, description="The anonymous visitor's id.",
                                   json_schema_extra=_ID_SCHEMA),
) -> None:
    """Read by `actor_of`."""


async def _broadcast_query(
    broadcastId: str | None = Query(None, description="The writing client's UUID: events of "
                                    "this write carry it, so that client can skip them.",
                                    json_schema_extra=_ID_SCHEMA),
) -> None:
    """Read by `broadcast_id_of`."""


async def _edit_key_query(
    editKey: str | None = Query(None, description="The key an anonymous author received "
                                "with what it created."),
) -> None:
    """Read by `edit_key_of`."""


async def _url_id_query(
    urlId: str | None = Query(None, description="The conversation's windowUrlId."),
) -> None:
    """Read by the comment routes (the body's `urlId` is the fallback)."""


READ_QUERY = [Depends(_visitor_query)]
WRITE_QUERY = [*READ_QUERY, Depends(_broadcast_query)]
CHANGE_QUERY = [*WRITE_QUERY, Depends(_edit_key_query)]
COMMENT_WRITE_QUERY = [*WRITE_QUERY, Depends(_url_id_query)]
