"""Usage metering: frames and bytes sent, and peak viewers, per tenant and hour (the
figures of the dashboard's usage page, README "Dashboard").

Counted in memory on the hot path (two integer additions per fan-out; a few per connect
and disconnect), written to the database every few seconds and at shutdown.

Frames and bytes: each node adds its own counts, so the hourly totals are the sum over
nodes. Peak viewers: the largest number of live connections (browser tabs showing the
widget, however many images each shows) a tenant had at once during the hour on this node.
Nodes write `max(stored, theirs)`, so with several nodes the figure is the largest
single-node peak, a lower bound of the true total (peaks of different nodes need not
coincide, so adding them would overstate it).
The node's running totals of frames and bytes since start stay in memory for the
metrics endpoint.
"""

from __future__ import annotations

import logging
import time

from imagechat.domain.errors import Unavailable
from imagechat.services.usage import LiveUsage, UsageService, hour_of

log = logging.getLogger("imagechat.live")


def _now_hour() -> int:
    return hour_of(time.time_ns() // 1_000_000)


class UsageMeter:
    def __init__(self, usage: UsageService) -> None:
        self.usage = usage
        self._counts: dict[tuple[str, int], list[int]] = {}
        self.frames_total = 0
        self.bytes_total = 0
        # Live connections per tenant right now, on this node.
        self._viewers: dict[str, int] = {}
        # Peaks not yet written, and what was written for the current hour (so an
        # unchanged peak is not written again every flush).
        self._peaks: dict[tuple[str, int], int] = {}
        self._written: dict[tuple[str, int], int] = {}

    def count(self, tenant_id: str, frames: int, size: int) -> None:
        self.frames_total += frames
        self.bytes_total += size
        key = (tenant_id, _now_hour())
        counts = self._counts.get(key)
        if counts is None:
            self._counts[key] = [frames, size]
        else:
            counts[0] += frames
            counts[1] += size

    def viewer_joined(self, tenant_id: str) -> None:
        viewers = self._viewers.get(tenant_id, 0) + 1
        self._viewers[tenant_id] = viewers
        self._note_peak((tenant_id, _now_hour()), viewers)

    def viewer_left(self, tenant_id: str) -> None:
        viewers = self._viewers.get(tenant_id, 0)
        # The count before leaving belongs to this hour too: an hour that began with N
        # viewers and only lost some since peaked at N.
        self._note_peak((tenant_id, _now_hour()), viewers)
        if viewers <= 1:
            self._viewers.pop(tenant_id, None)
        else:
            self._viewers[tenant_id] = viewers - 1

    def viewers(self, tenant_id: str) -> int:
        """The tenant's live connections on this node now."""
        return self._viewers.get(tenant_id, 0)

    def _note_peak(self, key: tuple[str, int], viewers: int) -> None:
        if viewers > self._peaks.get(key, 0):
            self._peaks[key] = viewers

    async def flush(self) -> None:
        hour = _now_hour()
        # An hour with viewers but no joins or leaves yet still had them.
        for tenant_id, viewers in self._viewers.items():
            self._note_peak((tenant_id, hour), viewers)
        peaks = {key: n for key, n in self._peaks.items() if n > self._written.get(key, 0)}
        self._peaks = {}
        if not self._counts and not peaks:
            return
        pending, self._counts = self._counts, {}
        rows = []
        # One row per tenant and hour: its frames, bytes and peak together.
        for key in pending.keys() | peaks.keys():
            frames, size = pending.get(key, (0, 0))
            rows.append(LiveUsage(key[0], key[1], frames, size, peaks.get(key, 0)))
        try:
            await self.usage.add_live(rows)
        except Exception as exc:
            # Keep the counts for the next flush rather than lose them.
            for key, (frames, size) in pending.items():
                counts = self._counts.setdefault(key, [0, 0])
                counts[0] += frames
                counts[1] += size
            for key, viewers in peaks.items():
                self._note_peak(key, viewers)
            if isinstance(exc, Unavailable):  # said by /readyz and the 503 answers
                log.debug("usage flush deferred: %s", exc.reason)
            else:
                log.warning("usage flush failed; will retry", exc_info=True)
            return
        self._written = {key: n for key, n in {**self._written, **peaks}.items()
                         if key[1] >= hour}
