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
from collections.abc import Mapping

import orjson

from imagechat.bus.base import Broker
from imagechat.live.channel import Channel
from imagechat.live.tasks import Spawn

log = logging.getLogger("imagechat.live")

# Ids listed in one p-u event at most; the count stays exact beyond it.
MAX_IDS_PER_EVENT = 100


class PresenceTracker:
    def __init__(self, broker: Broker, channels: Mapping[str, Channel], spawn: Spawn,
                 interval: float) -> None:
        self.broker = broker
        # The node's channels by key: a channel no longer among them has no local viewers.
        self.channels = channels
        self.spawn = spawn
        self.interval = interval
        self._pending: dict[str, tuple[Channel, list[str], list[str]]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def joined(self, channel: Channel, user_id: str) -> None:
        self._entry(channel)[1].append(user_id)

    def left(self, channel: Channel, user_id: str) -> None:
        self._entry(channel)[2].append(user_id)

    def _entry(self, channel: Channel) -> tuple[Channel, list[str], list[str]]:
        entry = self._pending.get(channel.key)
        if entry is None:
            entry = self._pending[channel.key] = (channel, [], [])
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush)
        return entry

    def _flush(self) -> None:
        self._timer = None
        pending, self._pending = self._pending, {}
        for channel, joined, left in pending.values():
            self.spawn(self._publish(channel, joined, left))

    async def _publish(self, channel: Channel, joined: list[str], left: list[str]) -> None:
        local = len(channel.subscribers) if self.channels.get(channel.key) is channel else 0
        try:
            count = await self.broker.viewers(channel.key, local)
            event = {
                "type": "p-u",
                "timestamp": time.time_ns() // 1_000_000,
                "urlId": channel.url_id,
                "uj": joined[:MAX_IDS_PER_EVENT],
                "ul": left[:MAX_IDS_PER_EVENT],
                "sc": count,
            }
            await self.broker.publish(channel.key, orjson.dumps(event))
        except Exception:
            log.warning("presence update failed for %s", channel.url_id, exc_info=True)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
