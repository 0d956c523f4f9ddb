"""What a channel, presence, replay and batching need from a connection: `Subscriber`.

A protocol of four members rather than the connection class, so that none of them imports
the socket code or the hub, and the hub's unit tests can subscribe fakes.
"""

from __future__ import annotations

from typing import Protocol

from imagechat.domain.models import Tenant
from imagechat.live.frames import array_frame


class Subscriber(Protocol):
    """A connection joined to a channel (docs/glossary.md)."""

    @property
    def closing(self) -> bool:
        """True once the connection is closing or gone: it takes no more frames."""
        ...

    @property
    def tenant(self) -> Tenant | None:
        """Its tenant, once admitted."""
        ...

    @property
    def batch(self) -> Batch | None:
        """Its own queue when it asked for batching (`batch=1`), else None."""
        ...

    def write(self, frame: bytes) -> bool:
        """Queue an encoded frame; False when closing, or when this write passed the send
        buffer's bound (the connection has then closed itself as a slow consumer)."""
        ...


class Batch:
    """A batching subscriber's own queue: the events waiting for its next array frame.

    Used while it catches up from the log, or for events it alone should get (presence
    during a catch-up); live events of a channel go through the channel's `SharedBatch`.
    """

    __slots__ = ("conn", "last_flush", "pending")

    def __init__(self, conn: Subscriber) -> None:
        self.conn = conn
        self.pending: list[bytes] = []
        self.last_flush = 0.0  # time.monotonic() of its last frame

    def frame(self) -> bytes:
        return array_frame(self.pending)
