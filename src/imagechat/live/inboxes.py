"""Inboxes: events for one visitor (`notification`, `notification-update`) to that
visitor's connections only, on every node.

A connection admitted with an identity (a signed-in user, or an anonymous visitor's id)
has an inbox: the broker key of that visitor (`bus.base.inbox_key`), which no channel's
key can equal. The node subscribes to a visitor's key while it holds one of their
connections, whatever channels those connections watch. Nothing here is logged or
resumable: a client that reconnects reads its unread count again over HTTP.
"""

from __future__ import annotations

from imagechat.bus.base import Broker
from imagechat.live.frames import text_frame
from imagechat.live.meter import UsageMeter
from imagechat.live.registry import Connection, Registry
from imagechat.live.tasks import BackgroundTasks


class Inboxes:
    def __init__(self, registry: Registry, broker: Broker, meter: UsageMeter,
                 tasks: BackgroundTasks) -> None:
        self.registry = registry
        self.broker = broker
        self.meter = meter
        self.tasks = tasks

    async def open(self, conn: Connection, key: str) -> None:
        """Route the visitor's events (`key`) to this connection too."""
        holders = self.registry.inboxes.setdefault(key, set())
        first = not holders
        holders.add(conn)
        conn.inbox_key = key
        if first:
            await self.broker.subscribe(key)

    def close(self, conn: Connection) -> None:
        key, conn.inbox_key = conn.inbox_key, None
        if key is None:
            return
        holders = self.registry.inboxes.get(key)
        if holders is None:
            return
        holders.discard(conn)
        if not holders:
            del self.registry.inboxes[key]
            self.tasks.spawn(self._release(key))

    async def _release(self, key: str) -> None:
        # The visitor may have connected again since this was scheduled.
        if key not in self.registry.inboxes:
            await self.broker.unsubscribe(key)

    def deliver(self, key: str, payload: bytes) -> bool:
        """Write a visitor's event to their connections here; False when this node holds
        none (the key is a channel's, or its last connection just left)."""
        holders = self.registry.inboxes.get(key)
        if not holders:
            return False
        frame = text_frame(payload)
        for conn in list(holders):
            if conn.write(frame) and conn.tenant is not None:
                self.meter.count(conn.tenant.id, 1, len(frame))
        return True
