"""Coalescing events into array frames for clients that ask for it (`batch=1`).

Policy: an event for a connection that has sent nothing in the last `FLUSH_INTERVAL_SECS`
leaves at once, alone (a quiet channel adds no delay). Events that arrive sooner are queued
and leave together, as one JSON array frame, when the interval since the last frame has
passed. So a connection receives at most 1 / FLUSH_INTERVAL_SECS frames per second and an
event waits at most FLUSH_INTERVAL_SECS (33 ms, under the 50 ms budget).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from imagechat.live.frames import text_frame

if TYPE_CHECKING:
    from imagechat.live.connection import LiveConnection

# Told about every frame sent (for usage metering): the connection and the frame's size.
SentCallback = Callable[["LiveConnection", int], None]

# 30 frames per second at most, per connection.
FLUSH_INTERVAL_SECS = 1 / 30


class Batch:
    __slots__ = ("conn", "last_flush", "pending")

    def __init__(self, conn: LiveConnection) -> None:
        self.conn = conn
        self.pending: list[bytes] = []
        self.last_flush = 0.0

    def frame(self) -> bytes:
        if len(self.pending) == 1:
            return text_frame(self.pending[0])
        return text_frame(b"[" + b",".join(self.pending) + b"]")


class BatchScheduler:
    """One timer for every batching connection of the node, not one per connection."""

    def __init__(self, on_sent: SentCallback) -> None:
        self._due: set[Batch] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._on_sent = on_sent

    def add(self, batch: Batch, payload: bytes) -> None:
        now = time.monotonic()
        if not batch.pending and now - batch.last_flush >= FLUSH_INTERVAL_SECS:
            frame = text_frame(payload)
            batch.last_flush = now
            if batch.conn.write(frame):
                self._on_sent(batch.conn, len(frame))
            return
        batch.pending.append(payload)
        self._due.add(batch)
        if self._timer is None:
            delay = max(0.0, batch.last_flush + FLUSH_INTERVAL_SECS - now)
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        now = time.monotonic()
        waiting: set[Batch] = set()
        soonest = None
        for batch in self._due:
            due_at = batch.last_flush + FLUSH_INTERVAL_SECS
            if due_at > now:
                waiting.add(batch)
                soonest = due_at if soonest is None else min(soonest, due_at)
                continue
            frame = batch.frame()
            batch.pending.clear()
            batch.last_flush = now
            if batch.conn.write(frame):
                self._on_sent(batch.conn, len(frame))
        self._due = waiting
        if soonest is not None:
            self._timer = asyncio.get_running_loop().call_later(soonest - now, self._tick)

    def discard(self, batch: Batch) -> None:
        self._due.discard(batch)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due.clear()
