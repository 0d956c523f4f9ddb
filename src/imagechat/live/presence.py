"""Presence (`p-u` events): who joined and left an image, and how many are watching.

Joins and leaves are coalesced per channel for `interval` seconds, so a thousand viewers
arriving at once cost a few events, not a million frames. The event goes through the
broker so that viewers on every node see it; it is not logged (it describes viewers, not
the image). The subscriber count `sc` is this node's count plus, with a shared broker,
the other nodes' (`Broker.viewers`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import orjson

from imagechat.live.channel import Channel

if TYPE_CHECKING:
    from imagechat.live.hub import Hub

log = logging.getLogger("imagechat.live")

# Ids listed in one p-u event at most; the count stays exact beyond it.
MAX_IDS_PER_EVENT = 100


class PresenceTracker:
    def __init__(self, hub: Hub, interval: float) -> None:
        self.hub = hub
        self.interval = interval
        self._pending: dict[str, tuple[Channel, list[str], list[str]]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def joined(self, channel: Channel, user_id: str) -> None:
        self._entry(channel)[1].append(user_id)

    def left(self, channel: Channel, user_id: str) -> None:
        self._entry(channel)[2].append(user_id)

    def _entry(self, channel: Channel) -> tuple[Channel, list[str], list[str]]:
        entry = self._pending.get(channel.topic)
        if entry is None:
            entry = self._pending[channel.topic] = (channel, [], [])
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush)
        return entry

    def _flush(self) -> None:
        self._timer = None
        pending, self._pending = self._pending, {}
        for channel, joined, left in pending.values():
            self.hub.spawn(self._publish(channel, joined, left))

    async def _publish(self, channel: Channel, joined: list[str], left: list[str]) -> None:
        local = sum(1 for _ in channel.subscribers) if self.hub.channels.get(
            channel.topic) is channel else 0
        try:
            count = await self.hub.broker.viewers(channel.topic, local)
            event = {
                "type": "p-u",
                "timestamp": time.time_ns() // 1_000_000,
                "urlId": channel.url_id,
                "uj": joined[:MAX_IDS_PER_EVENT],
                "ul": left[:MAX_IDS_PER_EVENT],
                "sc": count,
            }
            await self.hub.broker.publish(channel.topic, orjson.dumps(event))
        except Exception:
            log.warning("presence update failed for %s", channel.url_id, exc_info=True)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
