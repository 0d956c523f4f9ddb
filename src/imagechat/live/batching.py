"""Coalescing events into array frames for clients that ask for it (`batch=1`).

Policy: an event for a connection that has sent nothing in the last `FLUSH_INTERVAL_SECS`
leaves at once, alone (a quiet channel adds no delay). Events that arrive sooner are queued
and leave together, as one JSON array frame, when the interval since the last frame has
passed. So a connection receives at most 1 / FLUSH_INTERVAL_SECS frames per second per image
it watches, and an event waits at most FLUSH_INTERVAL_SECS (40 ms, under the 50 ms budget).

The batching connections of one image that are live (not catching up from the log) share
one queue, `SharedBatch`: an event is queued once for all of them, and each flush builds one
array frame that every one of them gets. Queuing per connection would cost Python work for
every event and every connection, which a burst into a busy image cannot afford. A
connection that joined the queue after it started gets the frame of the events from its
first one on. Connections catching up (their live events parked, see `channel.py`) are
paced one by one, each with its own queue (`subscriber.Batch`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from imagechat.live.frames import array_frame, text_frame
from imagechat.live.subscriber import Batch, Subscriber

# Told about every frame sent (for usage metering): the connection and the frame's size.
SentCallback = Callable[[Subscriber, int], None]
# Told about frames sent from a shared queue: the tenant, how many frames, their total size.
SharedSentCallback = Callable[[str, int, int], None]

# 25 frames per second at most, per connection and image: under the 30 a client may be sent,
# with room for frames that a busy network or client receives bunched together.
FLUSH_INTERVAL_SECS = 0.04


class SharedBatch:
    """The queue of one image's live batching connections (see the module doc)."""

    __slots__ = ("last_flush", "members", "payloads", "tenant_id")

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.payloads: list[bytes] = []
        # Each waiting connection and the index of its first event in `payloads`.
        self.members: dict[Subscriber, int] = {}
        self.last_flush = 0.0

    def forget(self, conn: Subscriber) -> None:
        """The connection left the image, or went back to catching up: the log (replay)
        will give it these events, in order with the rest."""
        self.members.pop(conn, None)


class BatchScheduler:
    """One timer for every batching connection of the node, not one per connection."""

    def __init__(self, on_sent: SentCallback, on_shared_sent: SharedSentCallback) -> None:
        self._due: set[Batch] = set()
        self._due_shared: set[SharedBatch] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._on_sent = on_sent
        self._on_shared_sent = on_shared_sent

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
        self._arm(batch.last_flush + FLUSH_INTERVAL_SECS - now)

    def add_shared(
        self, shared: SharedBatch, conns: list[Subscriber], payload: bytes
    ) -> None:
        """One event for live batching connections of one image (its queue: `shared`)."""
        now = time.monotonic()
        if not shared.payloads and now - shared.last_flush >= FLUSH_INTERVAL_SECS:
            frame = text_frame(payload)
            shared.last_flush = now
            sent = 0
            for conn in conns:
                if conn.write(frame):
                    sent += 1
            if sent:
                self._on_shared_sent(shared.tenant_id, sent, sent * len(frame))
            return
        first = len(shared.payloads)
        shared.payloads.append(payload)
        members = shared.members
        for conn in conns:
            if conn not in members:
                members[conn] = first
        self._due_shared.add(shared)
        self._arm(shared.last_flush + FLUSH_INTERVAL_SECS - now)

    def _arm(self, delay: float) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._tick)

    def _flush_shared(self, shared: SharedBatch, now: float) -> None:
        payloads, members = shared.payloads, shared.members
        shared.payloads, shared.members = [], {}
        shared.last_flush = now
        # Nearly every member waits from the first event: one frame serves them all.
        frames: dict[int, bytes] = {}
        sent = size = 0
        for conn, first in members.items():
            frame = frames.get(first)
            if frame is None:
                frame = frames[first] = array_frame(payloads[first:])
            if conn.write(frame):
                sent += 1
                size += len(frame)
        if sent:
            self._on_shared_sent(shared.tenant_id, sent, size)

    def _tick(self) -> None:
        self._timer = None
        now = time.monotonic()
        soonest = None
        # Taken out before writing: a write may close a slow connection, which discards
        # its batch from these sets.
        due_shared, self._due_shared = self._due_shared, set()
        for shared in due_shared:
            due_at = shared.last_flush + FLUSH_INTERVAL_SECS
            if due_at > now:
                self._due_shared.add(shared)
                soonest = due_at if soonest is None else min(soonest, due_at)
            elif shared.members:
                self._flush_shared(shared, now)
            else:
                shared.payloads = []  # everyone waiting left
        due, self._due = self._due, set()
        for batch in due:
            due_at = batch.last_flush + FLUSH_INTERVAL_SECS
            if due_at > now:
                self._due.add(batch)
                soonest = due_at if soonest is None else min(soonest, due_at)
                continue
            frame = batch.frame()
            batch.pending.clear()
            batch.last_flush = now
            if batch.conn.write(frame):
                self._on_sent(batch.conn, len(frame))
        if soonest is not None:
            self._timer = asyncio.get_running_loop().call_later(soonest - now, self._tick)

    def discard(self, batch: Batch) -> None:
        self._due.discard(batch)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due.clear()
        self._due_shared.clear()
