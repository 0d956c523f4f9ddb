"""Delivery: from the broker to every subscriber of a channel, in `seq` order, each once.

Guarantees (docs/protocol.md, "Order and resume"), and where they are enforced:
- a node subscribes to a channel's key on the broker before reading the channel's
  position, so no event committed after that read can be missed (`Delivery._start`);
- per channel, events reach every subscriber in `seq` order, each once: `Channel.offer`
  holds early events and drops repeats; gaps are filled from the event log (`_fill_gap`),
  and when the log cannot fill one, every subscriber is told `resync-required`;
- after the broker link returns, every channel catches up from the log (`on_reconnect`).
Each event is encoded once, and the same frame goes to every socket (`_send`); while every
subscriber is live, straight to the transports of the channel's plan (`_send_planned`).

Frames for a plan are held until the loop's current turn ends and then written together,
one `send()` per subscriber for all the events of that turn (`_uncork`). Under load the
broker's socket holds several events at once, and each would otherwise cost every
subscriber a system call of its own; when events are sparse, a turn holds one, so nothing
waits. Anything else sent on the channel (presence, a resync notice, an event while some
subscriber catches up) writes out what is held first, so each subscriber's order stays
that of `seq`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field

import orjson

from imagechat.bus.base import Broker
from imagechat.domain.clock import Clock
from imagechat.live import replay
from imagechat.live.batching import BatchScheduler
from imagechat.live.channel import MAX_HELD_EVENTS, Channel, Delivered
from imagechat.live.fanout_plan import FanoutPlan, write_direct
from imagechat.live.frames import text_frame
from imagechat.live.histogram import BROKER_LAG_BOUNDS_SECS, Histogram
from imagechat.live.meter import UsageMeter
from imagechat.live.registry import Registry
from imagechat.live.subscriber import Subscriber
from imagechat.live.tasks import BackgroundTasks
from imagechat.services.history import HistoryService

log = logging.getLogger("imagechat.live")


@dataclass(slots=True)
class _Held:
    """Frames of one channel for one plan, to be written at the end of the loop's turn."""
    plan: FanoutPlan
    frames: list[bytes] = field(default_factory=list)


class Delivery:
    def __init__(self, registry: Registry, broker: Broker, history: HistoryService,
                 clock: Clock, meter: UsageMeter, stats: Counter[str], gap_wait_secs: float,
                 tasks: BackgroundTasks) -> None:
        self.registry = registry
        self._channels = registry.channels
        self.broker = broker
        self.history = history
        self.clock = clock
        self.meter = meter
        self.stats = stats
        self.gap_wait_secs = gap_wait_secs
        self.tasks = tasks
        self.batches = BatchScheduler(self._count_sent, meter.count)
        # Seconds from an event's creation to its arrival here from the broker.
        self.broker_lag = Histogram(BROKER_LAG_BOUNDS_SECS)
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._gap_tasks: dict[str, asyncio.Task[None]] = {}
        self._held: dict[Channel, _Held] = {}
        self._uncork_scheduled = False

    def stop(self) -> None:
        self._uncork_all()
        for task in list(self._gap_tasks.values()):
            task.cancel()
        self.batches.stop()

    # channels ---------------------------------------------------------------------------
    def open(self, key: str, tenant_id: str, url_id: str) -> Channel:
        """The node's channel for `key`, started (in the background) if it is new."""
        channel = self._channels.get(key)
        if channel is None:
            channel = Channel(key, tenant_id, url_id)
            self._channels[key] = channel
            self._starting[key] = asyncio.create_task(self._start(channel))
        return channel

    async def started(self, channel: Channel) -> None:
        """Wait until the channel's position is known; raises if it could not be read."""
        starting = self._starting.get(channel.key)
        if starting is not None:
            await asyncio.shield(starting)

    async def _start(self, channel: Channel) -> None:
        try:
            await self.broker.subscribe(channel.key)
            position = await self.history.position(channel.tenant_id, channel.url_id)
            seq, epoch = (position.seq, position.epoch) if position else (0, "")
            self._deliver(channel, channel.start(seq, epoch))
        except Exception:
            if self._channels.get(channel.key) is channel:
                del self._channels[channel.key]
            raise
        finally:
            self._starting.pop(channel.key, None)

    def close(self, key: str) -> None:
        """The last local subscriber left: stop receiving this channel on this node."""
        del self._channels[key]
        gap = self._gap_tasks.pop(key, None)
        if gap is not None:
            gap.cancel()
        self.tasks.spawn(self._release(key))

    async def _release(self, key: str) -> None:
        # A client may have joined the channel again since this was scheduled; then the
        # subscription stays (its new channel subscribed, or is about to).
        if key not in self._channels:
            await self.broker.unsubscribe(key)

    # from the broker --------------------------------------------------------------------
    async def on_message(self, key: str, payload: bytes) -> None:
        """A message from the broker: a logged event (with `seq`) or presence."""
        channel = self._channels.get(key)
        if channel is None:
            return
        seq, created_ms = stamp_of(payload)
        if seq is None:
            self.fanout_live(channel, payload)
            return
        if created_ms is not None:
            # Clocks of different nodes may disagree by a little; a negative lag is noise.
            self.broker_lag.observe(max(0, self.clock.now_ms() - created_ms) / 1000)
        self._deliver(channel, channel.offer(seq, payload))
        if channel.gap is not None and key not in self._gap_tasks:
            self._gap_tasks[key] = asyncio.create_task(self._fill_gap(channel))

    def _deliver(self, channel: Channel, ready: Delivered) -> None:
        for seq, payload in ready:
            # The hot path: one event to every subscriber that should get it now.
            plan = channel.plan()
            if plan is None:
                self._uncork(channel)
                sent = self._send(channel, channel.receivers(seq, payload), payload)
            else:
                sent = self._send_planned(channel, plan, payload)
            self.stats["events_delivered"] += sent

    def _send_planned(self, channel: Channel, plan: FanoutPlan, payload: bytes) -> int:
        """Every subscriber is live: the frame is held for the plan's transports (written
        at the end of this turn, with the turn's other events), and goes through `write`
        to the others now."""
        frame = text_frame(payload)
        held = self._held.get(channel)
        if held is None or held.plan is not plan:
            if held is not None:
                self._uncork(channel)
            held = self._held[channel] = _Held(plan)
        held.frames.append(frame)
        if not self._uncork_scheduled:
            self._uncork_scheduled = True
            asyncio.get_running_loop().call_soon(self._uncork_all)
        # The held frames are counted when they are written (`_uncork`).
        return self._send(channel, plan.others, payload, frame) if plan.others else 0

    def _uncork_all(self) -> None:
        self._uncork_scheduled = False
        while self._held:
            self._uncork(next(iter(self._held)))

    def _uncork(self, channel: Channel) -> None:
        """Write what is held for the channel: its frames, as one piece, straight to each
        transport of their plan."""
        held = self._held.pop(channel, None)
        if held is None:
            return
        frames = held.frames
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        # Somebody left or changed since: a transport may be closing (see `write_direct`).
        written_to = write_direct(held.plan, data, look=not channel.keeps(held.plan))
        if written_to:
            self.stats["events_delivered"] += written_to * len(frames)
            self.meter.count(channel.tenant_id, written_to * len(frames), written_to * len(data))

    def fanout_live(self, channel: Channel, payload: bytes) -> None:
        """Unlogged events (presence, resync notices): to every subscriber, no seq."""
        self._uncork(channel)
        self._send(channel, list(channel.subscribers), payload)

    def _send(self, channel: Channel, receivers: list[Subscriber], payload: bytes,
              frame: bytes | None = None) -> int:
        """How many subscribers the event went to (written now or batched)."""
        # Encoded once; the same bytes go to every socket. A write may close a slow
        # connection, which unsubscribes it: hence a list, not the live dict.
        if frame is None:
            frame = text_frame(payload)
        sent = 0
        batched = 0
        shared: list[Subscriber] = []
        for sub in receivers:
            batch = sub.batch
            if batch is None:
                if sub.write(frame):
                    sent += 1
            elif channel.is_live(sub):
                shared.append(sub)  # live: queued once for all of them
            else:
                self.batches.add(batch, payload)  # catching up: paced on its own
                batched += 1
        if sent:
            self.meter.count(channel.tenant_id, sent, sent * len(frame))
        if shared:
            self.batches.add_shared(channel.shared_batch(), shared, payload)
        return sent + batched + len(shared)

    def _count_sent(self, sub: Subscriber, size: int) -> None:
        if sub.tenant is not None:
            self.meter.count(sub.tenant.id, 1, size)

    # from the log -----------------------------------------------------------------------
    def filling(self, key: str) -> bool:
        """Whether a gap of this channel is being filled right now."""
        return key in self._gap_tasks

    async def _fill_gap(self, channel: Channel) -> None:
        """Events arrived out of order: wait briefly for the missing ones, then read them."""
        try:
            await asyncio.sleep(self.gap_wait_secs if len(channel.held) < MAX_HELD_EVENTS
                                else 0)
            while (gap := channel.gap) is not None and self._channels.get(channel.key) is channel:
                await self.catch_up(channel)
                if channel.gap == gap:
                    # The log does not have them (trimmed or lost): nobody can be sure of
                    # this channel's history any more.
                    self._resync_everyone(channel)
                    return
        finally:
            self._gap_tasks.pop(channel.key, None)

    async def catch_up(self, channel: Channel) -> None:
        """Deliver what the log has after the last delivered seq."""
        found = await self.history.after(channel.tenant_id, channel.url_id, channel.last_seq)
        for event in found:
            self._deliver(channel, channel.offer(event.seq, event.data.encode()))

    async def on_reconnect(self) -> None:
        """The broker link is back: events published meanwhile are only in the log."""
        for channel in list(self._channels.values()):
            if channel.ready:
                try:
                    await self.catch_up(channel)
                except Exception:
                    log.warning("catch-up failed for %s", channel.url_id, exc_info=True)

    def _resync_everyone(self, channel: Channel) -> None:
        async def restart() -> None:
            position = await self.history.position(channel.tenant_id, channel.url_id)
            channel.held.clear()
            channel.start(position.seq if position else 0, position.epoch if position else "")
            self.fanout_live(channel, replay.resync_required(channel))

        self.tasks.spawn(restart())


def stamp_of(payload: bytes) -> tuple[int | None, int | None]:
    """(seq, creation time in epoch ms) of a logged event; seq None for presence."""
    # Logged events carry `"seq":N` right after type, timestamp and broadcastId; presence
    # events carry none. Parsing the whole event is cheap next to writing it to sockets.
    data = orjson.loads(payload)
    if not isinstance(data, dict):
        return None, None
    seq = data.get("seq")
    if not isinstance(seq, int):
        return None, None
    created = data.get("timestamp")
    return seq, created if isinstance(created, int) else None
