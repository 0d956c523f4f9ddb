"""What the service limits (writes and live connects, per visitor and per tenant) and who
counts as one visitor.

A visitor over its own limit never uses up its tenant's budget, which would let one abuser
lock a whole site out: each check charges the visitor's and the tenant's keys together or
not at all (see `imagechat.rate_limit.base`).
"""

from __future__ import annotations

import ipaddress

from imagechat.domain.actor import Actor
from imagechat.domain.errors import RateLimited
from imagechat.rate_limit.base import Check, LimiterBackend, Rate

# The longest visitor id used in a key; longer signed-in ids are cut (ids are short).
MAX_VISITOR_CHARS = 128


def address_key(host: str | None) -> str:
    """The part of a client address that names one visitor.

    IPv6 addresses count by their /64 network: one subscriber usually gets a whole /64 and
    could otherwise take a fresh address for every request.
    """
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:MAX_VISITOR_CHARS]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def visitor_key(actor: Actor | None, host: str | None) -> str:
    """A signed-in user (Secure SSO) is counted by user id, anyone else by address.

    Simple SSO ids are unsigned, anyone may claim a fresh one per request, so they count
    by address like anonymous visitors.
    """
    if actor is not None and actor.verified and actor.user_id:
        return "u:" + actor.user_id[:MAX_VISITOR_CHARS]
    return "ip:" + address_key(host)


class RateLimits:
    """The limits the service applies: writes and live connects, per visitor and per tenant.

    Keys carry the tenant id in braces (a Redis Cluster hash tag), so the keys of one check
    always live on the same Redis node.
    """

    def __init__(self, backend: LimiterBackend, *, writes_per_visitor: int = 0,
                 writes_per_tenant: int = 0, connects_per_visitor: int = 0,
                 connects_per_tenant: int = 0) -> None:
        self.backend = backend
        self.writes_per_visitor = Rate(writes_per_visitor)
        self.writes_per_tenant = Rate(writes_per_tenant)
        self.connects_per_visitor = Rate(connects_per_visitor)
        self.connects_per_tenant = Rate(connects_per_tenant)

    @property
    def limits_writes(self) -> bool:
        return self.writes_per_visitor.enabled or self.writes_per_tenant.enabled

    async def check_write(self, tenant_id: str, visitor: str | None) -> None:
        """Raises RateLimited when the visitor (None: the tenant's backend) or tenant is over."""
        checks = [(f"{{{tenant_id}}}:w:t", self.writes_per_tenant)]
        if visitor is not None:
            checks.append((f"{{{tenant_id}}}:w:{visitor}", self.writes_per_visitor))
        await self._check(checks, "Too many changes in a short time")

    async def check_connect(self, tenant_id: str, visitor: str) -> None:
        await self._check([(f"{{{tenant_id}}}:c:t", self.connects_per_tenant),
                           (f"{{{tenant_id}}}:c:{visitor}", self.connects_per_visitor)],
                          "Too many connection attempts")

    async def _check(self, checks: list[Check], what: str) -> None:
        active = [(key, rate) for key, rate in checks if rate.enabled]
        if not active:
            return
        decision = await self.backend.hit(active)
        if not decision.allowed:
            wait = decision.retry_after_header
            raise RateLimited(f"{what}; try again in {wait} s.", wait)

    async def close(self) -> None:
        await self.backend.close()
