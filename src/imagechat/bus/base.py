"""The broker interface: a handful of methods, one key per channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

# Called with the key and the payload exactly as published.
MessageHandler = Callable[[str, bytes], Awaitable[None]]
# Called after the link to a shared broker was lost and is back: messages published in
# between were missed, and the hub catches up from the event log.
ReconnectHandler = Callable[[], Awaitable[None]]


class Broker(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ping(self) -> None:
        """Raise unless the broker answers now and the subscription link is up (/readyz)."""
        ...

    async def publish(self, key: str, payload: bytes) -> None: ...

    async def subscribe(self, key: str) -> None: ...

    async def unsubscribe(self, key: str) -> None: ...

    def set_handler(self, handler: MessageHandler) -> None: ...

    def set_reconnect_handler(self, handler: ReconnectHandler) -> None: ...

    async def viewers(self, key: str, local_count: int) -> int:
        """Record this node's viewer count of a key; return the count over all nodes."""
        ...


def channel_key(tenant_id: str, url_id: str) -> str:
    """One key per channel (an image, or a page). The unit separator cannot occur in a
    validated tenant id."""
    return f"imagechat\x1f{tenant_id}\x1f{url_id}"


def inbox_key(tenant_id: str, user_key: str) -> str:
    """One key per visitor of a tenant ("u:<userId>" or "a:<anonUserId>"), for what only
    their own connections receive. Its own prefix: no channel's key can equal it."""
    return f"imagechat-user\x1f{tenant_id}\x1f{user_key}"
