"""The hub's background loops: liveness, the channel audit, history trim, usage writes.

- Liveness (docs/protocol.md, "Liveness and backpressure"): a connection silent for a
  heartbeat is pinged; one silent past the idle timeout is closed with 4408 (not right
  after the server itself stalled: its peers' answers are then still unread).
- The audit catches up every channel whose log is ahead of what this node delivered: an
  event committed but never published (its writer died in between) still arrives.
- The history bounds are applied by `HistoryService.trim`; the loop only calls it.

While the database is down these loops try again quietly (a debug line): /readyz and the
503 answers say so already, and a line with a traceback every few seconds would bury the
one that matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from imagechat.domain.clock import Clock
from imagechat.domain.errors import Unavailable
from imagechat.live.close_codes import CloseCode
from imagechat.live.delivery import Delivery
from imagechat.live.frames import OP_PING, encode_frame
from imagechat.live.limits import LiveLimits
from imagechat.live.meter import UsageMeter
from imagechat.live.registry import Registry
from imagechat.services.history import HistoryService

log = logging.getLogger("imagechat.live")


class Upkeep:
    def __init__(self, registry: Registry, delivery: Delivery, meter: UsageMeter,
                 history: HistoryService, clock: Clock, limits: LiveLimits) -> None:
        self.registry = registry
        self.delivery = delivery
        self.meter = meter
        self.history = history
        self.clock = clock
        self.limits = limits
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._loops = [asyncio.create_task(self._heartbeat_loop()),
                       asyncio.create_task(self._meter_loop()),
                       asyncio.create_task(self._audit_loop()),
                       asyncio.create_task(self._trim_loop())]

    def cancel(self) -> None:
        for task in self._loops:
            task.cancel()

    async def stopped(self) -> None:
        """Wait for the loops to end once cancelled."""
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _heartbeat_loop(self) -> None:
        period = self.limits.heartbeat_interval_secs / 2
        due = time.monotonic() + period
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic()
            # Woken a heartbeat late: this process stalled (a long blocking call, a pause),
            # and the pongs peers sent meanwhile are still unread in their sockets.
            self.check_liveness(now, stalled=now - due > self.limits.heartbeat_interval_secs)
            due = now + period

    def check_liveness(self, now: float, *, stalled: bool = False) -> None:
        """Ping every connection silent for a heartbeat; close one silent past the idle
        timeout, unless this round follows a stall of our own (then only ping)."""
        ping = encode_frame(OP_PING, b"")
        for conn in list(self.registry.connections):
            silent = now - conn.last_received
            if silent > self.limits.idle_timeout_secs and not stalled:
                conn.close(CloseCode.HEARTBEAT_TIMEOUT, "No traffic for too long.")
            elif silent > self.limits.heartbeat_interval_secs:
                conn.write(ping)

    async def _audit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.audit_interval_secs)
            try:
                await self.audit()
            except Unavailable as exc:
                log.debug("channel audit skipped: %s", exc.reason)
            except Exception:
                log.warning("channel audit failed", exc_info=True)

    async def audit(self) -> None:
        """Catch up every channel whose log is ahead of what this node delivered."""
        ready = [c for c in self.registry.channels.values() if c.ready]
        if not ready:
            return
        latest = await self.history.latest_seqs([(c.tenant_id, c.url_id) for c in ready])
        for channel in ready:
            behind = latest.get((channel.tenant_id, channel.url_id), 0) > channel.last_seq
            if behind and not self.delivery.filling(channel.key):
                await self.delivery.catch_up(channel)

    async def _trim_loop(self) -> None:
        while True:
            try:
                await self.history.trim(
                    max_events=self.limits.history_max_events,
                    max_age_ms=self.limits.history_max_age_ms,
                    now_ms=self.clock.now_ms(),
                )
            except Unavailable as exc:
                log.debug("history trim skipped: %s", exc.reason)
            except Exception:
                log.warning("history trim failed", exc_info=True)
            await asyncio.sleep(self.limits.history_trim_secs)

    async def _meter_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.meter_flush_secs)
            await self.meter.flush()
