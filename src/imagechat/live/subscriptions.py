"""Joining and leaving channels: a connection's subscriptions, its presence, its resume.

A client resuming with `since` gets every later event exactly once before live ones, or
`resync-required` (docs/protocol.md, "Order and resume"): it is subscribed as catching up
before anything is read, so the events delivered while its replay is read wait for it
(`join`, then `replay.resume`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from imagechat.bus.base import channel_key
from imagechat.domain import rules
from imagechat.domain.errors import ImageChatError
from imagechat.domain.models import Tenant
from imagechat.live import replay
from imagechat.live.admission import refuse
from imagechat.live.close_codes import CloseCode
from imagechat.live.delivery import Delivery
from imagechat.live.meter import UsageMeter
from imagechat.live.presence import PresenceTracker
from imagechat.live.registry import Connection, Registry
from imagechat.services.history import HistoryService


class Subscriptions:
    def __init__(self, registry: Registry, delivery: Delivery, presence: PresenceTracker,
                 history: HistoryService, meter: UsageMeter, stats: Counter[str],
                 max_channels_per_connection: int) -> None:
        self.registry = registry
        self.delivery = delivery
        self.presence = presence
        self.history = history
        self.meter = meter
        self.stats = stats
        self.max_channels = max_channels_per_connection

    async def join(
        self, conn: Connection, raw_url_id: Any, since: int | None, epoch: str | None
    ) -> None:
        tenant = conn.tenant
        if tenant is None or conn.closing:
            return
        found = _channel_of(conn, tenant, raw_url_id)
        if found is None:
            return
        key, url_id = found
        joined_before = key in conn.channel_keys
        if not joined_before and len(conn.channel_keys) >= self.max_channels:
            conn.close(CloseCode.TOO_MANY_CHANNELS,
                       f"At most {self.max_channels} images per connection.")
            return
        channel = self.delivery.open(key, tenant.id, url_id)
        # Subscribe before waiting: events that arrive meanwhile are kept for this client.
        channel.subscribe(conn, catching_up=since is not None)
        conn.channel_keys.add(key)
        try:
            await self.delivery.started(channel)
        except Exception:
            conn.close(CloseCode.UNAVAILABLE, "The database is not available; retry.")
            return
        if conn.closing:
            return
        if not joined_before:
            self.presence.joined(channel, conn.user_id_ws)
        if since is not None:
            await replay.resume(self.history, self.stats, conn, channel, since, epoch)

    def leave(self, conn: Connection, raw_url_id: Any) -> None:
        if conn.tenant is None:
            return
        found = _channel_of(conn, conn.tenant, raw_url_id)
        if found is not None:
            self._unsubscribe(conn, found[0])

    def drop(self, conn: Connection) -> None:
        """The connection is gone (or going): forget it everywhere."""
        if conn in self.registry.connections:
            self.registry.connections.discard(conn)
            if conn.tenant is not None:
                self.meter.viewer_left(conn.tenant.id)
        self.registry.release_address_slot(conn)
        if conn.batch is not None:
            self.delivery.batches.discard(conn.batch)
        for key in list(conn.channel_keys):
            self._unsubscribe(conn, key)

    def _unsubscribe(self, conn: Connection, key: str) -> None:
        conn.channel_keys.discard(key)
        channel = self.registry.channels.get(key)
        if channel is None or not channel.unsubscribe(conn):
            return
        self.presence.left(channel, conn.user_id_ws)
        if not channel.subscribers:
            self.delivery.close(key)


def _channel_of(conn: Connection, tenant: Tenant, raw_url_id: Any) -> tuple[str, str] | None:
    """The (channel key, clean urlId) a client names; a bad urlId closes the connection."""
    try:
        url_id = rules.clean_url_id(raw_url_id)
    except ImageChatError as exc:
        refuse(conn, exc)
        return None
    return channel_key(tenant.id, url_id), url_id
