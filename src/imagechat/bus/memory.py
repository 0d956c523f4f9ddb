"""The in-process broker (memory://): the embedded default for a single node."""

from __future__ import annotations

from imagechat.bus.base import MessageHandler, ReconnectHandler


class MemoryBroker:
    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._handler: MessageHandler | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._keys.clear()

    async def ping(self) -> None:
        return None  # in this process: up whenever the process is

    def set_handler(self, handler: MessageHandler) -> None:
        self._handler = handler

    def set_reconnect_handler(self, handler: ReconnectHandler) -> None:
        return None  # an in-process broker never loses its link

    async def viewers(self, key: str, local_count: int) -> int:
        return local_count  # one node: the local count is the count

    async def subscribe(self, key: str) -> None:
        self._keys.add(key)

    async def unsubscribe(self, key: str) -> None:
        self._keys.discard(key)

    async def publish(self, key: str, payload: bytes) -> None:
        # Delivered in the publisher's task, in publish order: per-channel order holds.
        if self._handler is not None and key in self._keys:
            await self._handler(key, payload)
