"""Which subscribers of a channel the fan-out writes to directly, worked out once.

The fan-out is the hot path: with 1,000 subscribers, every event is 1,000 writes. Calling
each connection's `write` (state checks, a Python call) costs about as much user-space CPU
as the write itself, so a channel keeps a plan: the transports of its open, non-batching,
live subscribers, to which the same frame bytes go with nothing in between, and the
others (admitting, batching, or fakes in tests), which go through `write` as before. The
channel drops its plan whenever its subscribers or their states change; the hub drops it
when a subscriber's handshake completes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from imagechat.live.subscriber import Subscriber


@runtime_checkable
class DirectSubscriber(Subscriber, Protocol):
    """A subscriber whose transport the fan-out may write to itself."""

    @property
    def direct_transport(self) -> asyncio.Transport | None:
        """Its transport while frames may go straight to it, else None."""
        ...

    def overflowed(self) -> bool:
        """After a write: True (and it has closed itself) when past its send buffer."""
        ...


@dataclass(frozen=True, slots=True)
class FanoutPlan:
    direct: tuple[tuple[DirectSubscriber, asyncio.Transport], ...]
    others: list[Subscriber]


def plan_for(subscribers: Iterable[Subscriber]) -> FanoutPlan:
    direct: list[tuple[DirectSubscriber, asyncio.Transport]] = []
    others: list[Subscriber] = []
    for sub in subscribers:
        transport = sub.direct_transport if isinstance(sub, DirectSubscriber) else None
        if transport is not None and isinstance(sub, DirectSubscriber):
            direct.append((sub, transport))
        else:
            others.append(sub)
    return FanoutPlan(tuple(direct), others)
