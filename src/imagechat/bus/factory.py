"""Pick a broker by URL scheme; optional backends are imported only when asked for."""

from __future__ import annotations

from imagechat.bus.base import Broker
from imagechat.bus.memory import MemoryBroker


def broker_from_url(url: str) -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Imported only when asked for: the single-node default needs no Redis client.
        try:
            from imagechat.bus.redis import RedisBroker
        except ImportError as exc:
            raise ValueError(
                "redis:// needs the Redis client: pip install 'imagechat[redis]'"
            ) from exc

        return RedisBroker(url)
    raise ValueError(f"Unknown broker URL {url!r}: use memory:// or redis://host:port")
