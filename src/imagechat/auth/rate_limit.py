"""Rate limits: GCRA over a small backend interface, kept in memory or in Redis.

GCRA (the generic cell rate algorithm) is a token bucket stored as one number per key: the
theoretical arrival time (TAT). A key allowed `count` events per `period` moves its TAT
forward by `interval = period / count` on every allowed event, and an event is refused while
its TAT would end up more than `count` intervals ahead of now. So `count` events may come at
once (the burst), then one per interval; the answer to a refusal is the exact wait.

A key whose TAT is in the past holds nothing a fresh key would not: the memory backend may
forget it, and Redis keys expire at their TAT. Times are whole microseconds in both
backends, so the two compute the same answers.

Each check names several keys (a visitor's and its tenant's) and is all-or-nothing: an
event is charged to every key or to none. A visitor over its own limit therefore never
uses up its tenant's budget, which would let one abuser lock a whole site out.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from imagechat.domain.actor import Actor
from imagechat.domain.errors import RateLimited

# Every limit counts events per minute; a limit of N also lets N come at once.
PERIOD_SECS = 60.0
MICROS = 1_000_000
# Keys the memory backend keeps at most: 150-300 bytes each (measured; it depends on the
# key's length), so at most about 15 MiB. Past it, idle keys go first, then the least
# recently charged (which makes those limits forget).
MAX_MEMORY_KEYS = 50_000
# The longest visitor id used in a key; longer signed-in ids are cut (ids are short).
MAX_VISITOR_CHARS = 128


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` events per `period_secs`, up to `count` at once. 0 means no limit."""

    count: int
    period_secs: float = PERIOD_SECS

    @property
    def enabled(self) -> bool:
        return self.count > 0

    @property
    def interval_us(self) -> int:
        return max(1, round(self.period_secs * MICROS / self.count))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # How long until the refused event would be allowed; 0 when allowed.
    retry_after_secs: float = 0.0

    @property
    def retry_after_header(self) -> int:
        """Whole seconds for `Retry-After`: rounded up, never 0."""
        return max(1, math.ceil(self.retry_after_secs))


ALLOWED = Decision(True)
Check = tuple[str, Rate]


class LimiterBackend(Protocol):
    async def hit(self, checks: Sequence[Check]) -> Decision:
        """Count one event against every key, or against none if any key is over."""

    async def close(self) -> None: ...


def gcra(tat_us: int, now_us: int, rate: Rate) -> tuple[int, int]:
    """(the key's TAT after one more event, microseconds to wait first: 0 = allowed now)."""
    interval = rate.interval_us
    new_tat = max(tat_us, now_us) + interval
    return new_tat, max(0, new_tat - rate.count * interval - now_us)


class MemoryLimiter:
    """One node's limits in a dict; `clock` returns seconds (monotonic, injectable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_MEMORY_KEYS) -> None:
        self.clock = clock
        self.max_keys = max_keys
        # key -> TAT in µs; dict order is least recently charged first.
        self._tats: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(self, checks: Sequence[Check]) -> Decision:
        return self.hit_now(checks)

    def hit_now(self, checks: Sequence[Check]) -> Decision:
        now = int(self.clock() * MICROS)
        updates: list[tuple[str, int]] = []
        wait = 0
        for key, rate in checks:
            new_tat, key_wait = gcra(self._tats.get(key, 0), now, rate)
            wait = max(wait, key_wait)
            updates.append((key, new_tat))
        if wait:
            return Decision(False, wait / MICROS)
        for key, new_tat in updates:
            if self._tats.pop(key, None) is None and len(self._tats) >= self.max_keys:
                self._make_room(now)
            self._tats[key] = new_tat
        return ALLOWED

    def _make_room(self, now_us: int) -> None:
        # Idle keys first: forgetting them changes nothing. Then, if most keys are live
        # (many visitors at once), the least recently charged, down to three quarters so
        # this full pass runs at most once per max_keys/4 new keys.
        self._tats = {k: t for k, t in self._tats.items() if t > now_us}
        excess = len(self._tats) - self.max_keys * 3 // 4
        if excess > 0:
            for key in list(self._tats)[:excess]:
                del self._tats[key]

    async def close(self) -> None:
        self._tats.clear()


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


def backend_for(redis_url: str, *, prefix: str) -> LimiterBackend:
    """Redis when the nodes share one (limits hold across nodes), else this node's memory."""
    if not redis_url:
        return MemoryLimiter()
    # Imported only when asked for: the single-node default needs no Redis client.
    from imagechat.auth.rate_limit_redis import RedisLimiter

    return RedisLimiter(redis_url, prefix=prefix)
