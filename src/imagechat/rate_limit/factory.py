"""Pick a limiter backend by the broker URL; Redis is imported only when asked for."""

from __future__ import annotations

from imagechat.rate_limit.base import LimiterBackend
from imagechat.rate_limit.memory import MemoryLimiter


def limiter_from_url(redis_url: str, *, prefix: str) -> LimiterBackend:
    """Redis when the nodes share one (limits hold across nodes), else this node's memory."""
    if not redis_url:
        return MemoryLimiter()
    # Imported only when asked for: the single-node default needs no Redis client.
    from imagechat.rate_limit.redis import RedisLimiter

    return RedisLimiter(redis_url, prefix=prefix)
