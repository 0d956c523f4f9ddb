"""Which subscribers of a channel the fan-out writes to directly, worked out once, and how.

The fan-out is the hot path: with 1,000 subscribers, every event is 1,000 writes. Calling
each connection's `write` (state checks, a Python call) costs about as much user-space CPU
as the write itself, so a channel keeps a plan: its open, non-batching, live subscribers'
transports, to which the same frame bytes go with nothing in between, and the others
(admitting, batching, or fakes in tests), which go through `write` as before. The channel
drops its plan whenever its subscribers or their states change; the hub drops it when a
subscriber's handshake completes.

`write_direct` sends the frames of the loop's turn to a plain TCP socket with one
`send()` while the transport has nothing queued: the event loop's `transport.write` costs
more user space than the system call it makes. What the kernel does not take, and every frame while
something is queued, goes through the transport, so bytes stay in order; a socket error
is left to the transport to find and report. TLS transports always go through the
transport.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, cast

from imagechat.live.subscriber import Subscriber

_os_write = os.write


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


def write_direct(plan: FanoutPlan, data: bytes, *, look: bool) -> int:
    """`data` to every transport of the plan; how many it went to (not those closing, nor
    those it took past their send buffer, which have closed themselves).

    `look`: the plan has changed since the data was made for it, so a transport may be
    closing, and its socket must not be written to (its descriptor may even be another
    connection's by now)."""
    size = len(data)
    written_to = len(plan.direct)
    backed_up: list[DirectSubscriber] = []
    os_write = _os_write
    for sub, transport, fd in plan.direct:
        if look and transport.is_closing():
            written_to -= 1
            continue
        # One send() while nothing is queued on the transport (see the module's doc).
        if fd < 0 or transport.get_write_buffer_size():
            transport.write(data)
        else:
            try:
                written = os_write(fd, data)
            except (BlockingIOError, InterruptedError):
                written = 0
            except OSError:
                written = -1
            if written == size:
                continue
            transport.write(data if written < 0 else data[written:])
        # Usually 0 (the kernel took it all); the bound is checked only when not.
        if transport.get_write_buffer_size():
            backed_up.append(sub)
    for sub in backed_up:
        if sub.overflowed():
            written_to -= 1  # closed as a slow consumer: that data was its last
    return written_to
