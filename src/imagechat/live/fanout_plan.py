"""Which subscribers of a channel the fan-out writes to directly, worked out once, and how.

The fan-out is the hot path: with 1,000 subscribers, every event is 1,000 writes. Calling
each connection's `write` (state checks, a Python call) costs about as much user-space CPU
as the write itself, so a channel keeps a plan: its open, non-batching, live subscribers'
transports, to which the same frame bytes go with nothing in between, and the others
(admitting, batching, or fakes in tests), which go through `write` as before. The channel
drops its plan whenever its subscribers or their states change; the hub drops it when a
subscriber's handshake completes.

`Delivery._uncork` sends the frames of the loop's turn to a plain TCP socket with one
`send()` while the transport has nothing queued: the event loop's `transport.write` costs
more user space than the system call it makes. What the kernel does not take, and every frame while
something is queued, goes through the transport, so bytes stay in order; a socket error
is left to the transport to find and report. TLS transports always go through the
transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, cast

from imagechat.live.subscriber import Subscriber


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
    # (subscriber, its transport, the socket's descriptor or -1: through the transport)
    direct: tuple[tuple[DirectSubscriber, asyncio.Transport, int], ...]
    others: list[Subscriber]


def plan_for(subscribers: Iterable[Subscriber]) -> FanoutPlan:
    direct: list[tuple[DirectSubscriber, asyncio.Transport, int]] = []
    others: list[Subscriber] = []
    for sub in subscribers:
        # Duck-typed: a runtime Protocol check would cost more than the whole fan-out.
        transport = getattr(sub, "direct_transport", None)
        if transport is None:
            others.append(sub)
        else:
            direct.append((cast(DirectSubscriber, sub), transport, socket_fd(transport)))
    return FanoutPlan(tuple(direct), others)


def socket_fd(transport: asyncio.BaseTransport) -> int:
    """The descriptor of a plain TCP transport's socket; -1 for TLS or anything else."""
    if transport.get_extra_info("sslcontext") is not None:
        return -1
    sock = transport.get_extra_info("socket")
    try:
        return int(sock.fileno()) if sock is not None else -1
    except (AttributeError, OSError, ValueError):
        return -1
