"""One image's live stream on this node: its subscribers and the in-order delivery rule.

Events of a channel reach subscribers in `seq` order, each exactly once. Brokers deliver a
channel's events in publish order per publisher, but two nodes may publish seq 7 and 8 in
either order; so the channel holds events that arrive early until the gap is filled (by
the late event, or from the event log), and drops any `seq` it has already delivered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagechat.live.batching import SharedBatch

if TYPE_CHECKING:
    from imagechat.live.connection import LiveConnection

# Events held back waiting for a gap to fill; past this the hub fills from the log at once.
MAX_HELD_EVENTS = 10_000

# A subscriber's value in `Channel.subscribers`:
# - None: live;
# - a list of (seq, payload): catching up from the log; live events are parked there;
# - an int: live, but it already got every event up to this seq from the log (the log can
#   be ahead of what this node has delivered), so those are skipped once more.
Parked = list[tuple[int, bytes]]
SubscriberState = Parked | int | None


class Channel:
    __slots__ = ("epoch", "held", "last_seq", "ready", "shared", "subscribers", "tenant_id",
                 "topic", "url_id")

    def __init__(self, topic: str, tenant_id: str, url_id: str) -> None:
        self.topic = topic
        self.tenant_id = tenant_id
        self.url_id = url_id
        self.subscribers: dict[LiveConnection, SubscriberState] = {}
        # The last seq delivered here; meaningful once `ready` (read from the database).
        self.last_seq = 0
        self.epoch = ""
        self.ready = False
        self.held: dict[int, bytes] = {}
        # The queue of the live batching subscribers (created on first use).
        self.shared: SharedBatch | None = None

    def shared_batch(self) -> SharedBatch:
        if self.shared is None:
            self.shared = SharedBatch(self.tenant_id)
        return self.shared

    def start(self, seq: int, epoch: str) -> list[tuple[int, bytes]]:
        """The channel's position is known: deliver what arrived meanwhile and is newer."""
        self.ready = True
        self.last_seq = seq
        self.epoch = epoch
        for old in [s for s in self.held if s <= seq]:
            del self.held[old]
        return self._drain()

    def offer(self, seq: int, payload: bytes) -> list[tuple[int, bytes]]:
        """Accept an event; returns the events now deliverable, in order."""
        if self.ready and seq <= self.last_seq:
            return []  # already delivered (a broker redelivery or a log catch-up overlap)
        self.held[seq] = payload
        return self._drain() if self.ready else []

    def _drain(self) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        while (nxt := self.last_seq + 1) in self.held:
            out.append((nxt, self.held.pop(nxt)))
            self.last_seq = nxt
        return out

    @property
    def gap(self) -> tuple[int, int] | None:
        """The missing range (first, last) that blocks held events, if any."""
        if not self.ready or not self.held:
            return None
        return self.last_seq + 1, min(self.held) - 1
