"""Usage metering (SPEC §3): frames and bytes sent per tenant and hour.

Counted in memory on the hot path (a few integer additions per fan-out), written to the
database every few seconds and at shutdown; each node adds its own counts, so the hourly
totals are the sum over nodes. The node's running totals since start stay in memory for
the metrics endpoint.
"""

from __future__ import annotations

import logging
import time

from imagechat.store import usage
from imagechat.store.database import Database

log = logging.getLogger("imagechat.live")


class UsageMeter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._counts: dict[tuple[str, int], list[int]] = {}
        self.frames_total = 0
        self.bytes_total = 0

    def count(self, tenant_id: str, frames: int, size: int) -> None:
        self.frames_total += frames
        self.bytes_total += size
        key = (tenant_id, usage.hour_of(time.time_ns() // 1_000_000))
        counts = self._counts.get(key)
        if counts is None:
            self._counts[key] = [frames, size]
        else:
            counts[0] += frames
            counts[1] += size

    async def flush(self) -> None:
        if not self._counts:
            return
        pending, self._counts = self._counts, {}
        try:
            async with self.db.write() as conn:
                for (tenant_id, hour), (frames, size) in pending.items():
                    await usage.add(conn, tenant_id, hour, pubsub_message_count=frames,
                                    pubsub_bandwidth=size)
        except Exception:
            # Keep the counts for the next flush rather than lose them.
            for key, (frames, size) in pending.items():
                counts = self._counts.setdefault(key, [0, 0])
                counts[0] += frames
                counts[1] += size
            log.warning("usage flush failed; will retry", exc_info=True)
