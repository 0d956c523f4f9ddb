"""Rate limits in Redis, shared by every node: the same GCRA as the memory backend, in Lua.

The script reads the clock with Redis' TIME, so nodes whose clocks disagree still agree on
every limit, and it checks and charges all keys of a check in one atomic step. Each key
expires at its TAT, when it would hold nothing anyway.

When Redis cannot be reached, limits are not enforced (fail open): refusing every write
because the limiter is down would turn a cache outage into a site outage. A warning is
logged, at most every `WARN_EVERY_SECS`, and Redis is left alone for `RETRY_AFTER_SECS`
so each request does not wait for a dead server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from imagechat.rate_limit.base import ALLOWED, MICROS, Check, Decision

# The logger operators already filter on, from when rate limits were part of `auth`.
log = logging.getLogger("imagechat.auth")

# A limiter call that takes longer than this counts as Redis being down.
TIMEOUT_SECS = 0.5
RETRY_AFTER_SECS = 2.0
WARN_EVERY_SECS = 60.0

# KEYS: the keys; ARGV: interval µs and count for each key, in order.
# Returns 0 (allowed, every key charged) or the µs to wait (nothing charged).
_GCRA_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tats = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local count = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  tats[i] = tat + interval
  local key_wait = tats[i] - count * interval - now
  if key_wait > wait then wait = key_wait end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%d', tats[i]), 'PX',
             math.ceil((tats[i] - now) / 1000))
end
return 0
"""


class RedisLimiter:
    def __init__(self, url: str, *, prefix: str) -> None:
        self.prefix = prefix
        self._redis: aioredis.Redis = aioredis.from_url(
            url, socket_timeout=TIMEOUT_SECS, socket_connect_timeout=TIMEOUT_SECS)
        self._script = self._redis.register_script(_GCRA_LUA)
        self._skip_until = 0.0
        self._warned_at = -WARN_EVERY_SECS

    async def hit(self, checks: Sequence[Check]) -> Decision:
        if not checks:
            return ALLOWED
        now = time.monotonic()
        if now < self._skip_until:
            return ALLOWED
        args: list[int] = []
        for _key, rate in checks:
            args += [rate.interval_us, rate.count]
        try:
            wait_us = int(await self._script(keys=[self.prefix + key for key, _ in checks],
                                             args=args))
        except (TimeoutError, RedisError, OSError) as exc:
            self._skip_until = now + RETRY_AFTER_SECS
            if now - self._warned_at >= WARN_EVERY_SECS:
                self._warned_at = now
                log.warning("rate limits not enforced: Redis is unreachable (%s)", exc)
            return ALLOWED
        return ALLOWED if wait_us <= 0 else Decision(False, wait_us / MICROS)

    async def close(self) -> None:
        await self._redis.aclose()
