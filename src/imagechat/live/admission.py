"""Admission: the checks a live connection passes once its WebSocket handshake is read.

The handshake itself (a WebSocket request for `/sub`) is checked by the connection and
refused with an HTTP status; everything here is checked after the upgrade, so that
browsers can see why, and refused with a close code (docs/protocol.md, "Close codes").
Each refusal is an `ImageChatError`, and `CLOSE_CODES` is the one table from error to code.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from imagechat.auth.identity import resolve_actor
from imagechat.auth.origins import origin_allowed, same_host
from imagechat.bus.base import inbox_key
from imagechat.domain import rules
from imagechat.domain.actor import Actor
from imagechat.domain.clock import Clock
from imagechat.domain.errors import (
    Forbidden,
    ImageChatError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
)
from imagechat.domain.models import Tenant
from imagechat.live.close_codes import CloseCode
from imagechat.live.handshake import Request
from imagechat.live.messages import parse_since
from imagechat.live.registry import Connection, Registry
from imagechat.rate_limit.policy import RateLimits, address_key, visitor_key
from imagechat.services.notifications import key_of
from imagechat.services.tenants import TenantService

# The close code of each refusal; a subclass takes its nearest listed ancestor's code.
CLOSE_CODES: dict[type[ImageChatError], CloseCode] = {
    NotFound: CloseCode.TENANT_NOT_FOUND,  # the only lookup before admission is the tenant
    NotAuthenticated: CloseCode.UNAUTHENTICATED,  # the SSO token did not verify
    Forbidden: CloseCode.ORIGIN_NOT_ALLOWED,
    RateLimited: CloseCode.RATE_LIMITED,
    Unavailable: CloseCode.UNAVAILABLE,
    ImageChatError: CloseCode.BAD_MESSAGE,  # anything else the client sent wrong
}


def close_code_for(exc: ImageChatError) -> CloseCode:
    for cls in type(exc).__mro__:
        code = CLOSE_CODES.get(cls)
        if code is not None:
            return code
    return CloseCode.BAD_MESSAGE  # not reached: ImageChatError is in the table


def refuse(conn: Connection, exc: ImageChatError) -> None:
    conn.close(close_code_for(exc), exc.reason)


@dataclass(frozen=True, slots=True)
class Admitted:
    """What a connection that passed the checks asked for."""

    tenant: Tenant
    user_id_ws: str
    url_id: str  # as sent: cleaned when the channel is joined
    since: int | None
    epoch: str | None
    batch: bool
    # Its visitor's events come on this connection too: "u:<userId>", "a:<anonUserId>".
    inbox: str | None = None
    # A signed-in visitor, to be remembered as a user others can mention.
    actor: Actor | None = None


class Admission:
    def __init__(self, registry: Registry, tenants: TenantService, clock: Clock,
                 rate_limits: RateLimits | None, stats: Counter[str],
                 max_connections_per_address: int) -> None:
        self.registry = registry
        self.tenants = tenants
        self.clock = clock
        self.rate_limits = rate_limits
        self.stats = stats
        self.max_per_address = max_connections_per_address

    def take_address_slot(self, conn: Connection) -> bool:
        """Count the connection against its address; closes it (4429) when that is full.
        Counted before the other checks, which wait on the database: a flood of handshakes
        from one address is bounded while they wait."""
        bound = self.max_per_address
        if not bound:
            return True
        if self.registry.take_address_slot(conn, address_key(conn.address), bound):
            return True
        self.stats["address_full_refusals"] += 1
        conn.close(CloseCode.RATE_LIMITED,
                   f"Too many open connections from your address (at most {bound}).")
        return False

    async def check(self, conn: Connection, request: Request) -> Admitted | None:
        """What the connection asked for, or None when it was refused (and closed)."""
        params = request.params
        tenant_id = params.get("tenantIdWS") or params.get("tenantId") or ""
        try:
            if not tenant_id or not (params.get("urlId") or params.get("urlIdWS")):
                raise ImageChatError("tenantIdWS and urlId are required.")
            rules.require_id(tenant_id, "tenantId")
            tenant = await self.tenants.get(tenant_id)
            origin = request.headers.get("origin")
            if (origin is not None and not same_host(origin, request.headers.get("host"))
                    and not origin_allowed(tenant, origin)):
                raise Forbidden("This origin may not connect here.")
            actor = resolve_actor(tenant, sso_token=params.get("sso") or None,
                                  anon_user_id=params.get("anonUserId") or None,
                                  now_ms=self.clock.now_ms())
            since, epoch = parse_since(params)
            if self.rate_limits is not None:
                await self.rate_limits.check_connect(tenant.id, visitor_key(actor, conn.address))
        except ImageChatError as exc:
            if isinstance(exc, RateLimited):
                self.stats["rate_limited_connects"] += 1
            if isinstance(exc, NotFound):
                exc = NotFound(f"No site with tenant id {tenant_id!r}.")
            refuse(conn, exc)
            return None
        if conn.closing:
            return None
        user_id_ws = actor.ws_user_id or params.get("userIdWS") or ""
        key = key_of(actor.user_id, actor.anon_user_id)
        return Admitted(
            tenant=tenant,
            user_id_ws=user_id_ws[:128] or f"v-{secrets.token_hex(6)}",
            url_id=params.get("urlId") or params.get("urlIdWS") or "",
            since=since, epoch=epoch, batch=params.get("batch") in ("1", "true"),
            inbox=inbox_key(tenant.id, key) if key else None,
            actor=actor if actor.is_signed_in else None,
        )
