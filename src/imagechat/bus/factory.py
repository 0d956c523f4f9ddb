"""Pick a broker by URL scheme; optional backends are imported only when asked for."""

from __future__ import annotations

from imagechat.bus.base import Broker
from imagechat.bus.memory import MemoryBroker


def broker_from_url(url: str) -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker()
    raise ValueError(f"Unknown broker URL {url!r}: use memory:// or redis://host:port")
