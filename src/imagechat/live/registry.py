"""This node's channels and connections, and what the hub needs of a connection.

The hub's parts share one `Registry`; none of them imports the connection class, whose
hub-facing side is the `Connection` protocol (so unit tests can use fakes).
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from imagechat.domain.models import Tenant
from imagechat.live.channel import Channel
from imagechat.live.subscriber import Batch, Subscriber


class Connection(Subscriber, Protocol):
    """One live WebSocket, as the hub sees it once its handshake has been read."""

    tenant: Tenant | None
    batch: Batch | None
    user_id_ws: str  # its viewer id in presence events
    # The client's address (behind trusted proxies, the one they name) and the key the
    # registry counts it under while it is open (None: not counted).
    address: str
    address_slot: str | None
    channel_keys: set[str]  # the channels it has joined
    inbox_key: str | None  # its visitor's own events' key (None: anonymous without an id)

    @property
    def last_received(self) -> float:
        """time.monotonic() of the last bytes it sent (what the heartbeat looks at)."""
        ...

    def close(self, code: int, reason: str) -> None: ...

    def admitted_now(self) -> list[bytes]:
        """Complete the handshake; returns the messages that arrived before."""
        ...


class Registry:
    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.connections: set[Connection] = set()  # admitted, until dropped
        # Per visitor key (`bus.base.inbox_key`), their connections on this node.
        self.inboxes: dict[str, set[Connection]] = {}
        # Open connections per client address (admitted or not): bounded by connections.
        self.per_address: Counter[str] = Counter()

    def take_address_slot(self, conn: Connection, key: str, bound: int) -> bool:
        """Count `conn` under its address `key`; False when `bound` are open already."""
        if self.per_address[key] >= bound:
            return False
        self.per_address[key] += 1
        conn.address_slot = key
        return True

    def release_address_slot(self, conn: Connection) -> None:
        if conn.address_slot is not None:
            key, conn.address_slot = conn.address_slot, None
            self.per_address[key] -= 1
            if self.per_address[key] <= 0:
                del self.per_address[key]
