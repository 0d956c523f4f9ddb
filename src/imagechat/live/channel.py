"""One channel on this node: its subscribers, their states, and the in-order delivery rule.

Events of a channel reach subscribers in `seq` order, each exactly once. Brokers deliver a
channel's events in publish order per publisher, but two nodes may publish seq 7 and 8 in
either order; so the channel holds events that arrive early until the gap is filled (by
the late event, or from the event log), and drops any `seq` it has already delivered.

A subscriber resuming from the log (docs/protocol.md, "Order and resume") is not live yet:
the events delivered meanwhile are parked on its subscription and sent after the replay.
"""

from __future__ import annotations

from enum import Enum

from imagechat.live.batching import SharedBatch
from imagechat.live.fanout_plan import FanoutPlan, plan_for
from imagechat.live.subscriber import Subscriber

# Events held back waiting for a gap to fill; past this the hub fills from the log at once.
MAX_HELD_EVENTS = 10_000

Delivered = list[tuple[int, bytes]]  # (seq, payload), in seq order


class SubscriberState(Enum):
    # Gets each event as the channel delivers it.
    LIVE = "live"
    # Its missed events are being read from the log; events delivered meanwhile are parked.
    CATCHING_UP = "catching up"
    # Live, but the log gave it events up to `replayed_through` that this node has not
    # delivered yet (the log can be ahead of the broker): those are skipped when they come.
    AHEAD = "ahead"


_LIVE = SubscriberState.LIVE
_CATCHING_UP = SubscriberState.CATCHING_UP


class Subscription:
    """One subscriber's state in one channel. A state is never changed in place: the
    channel puts a new `Subscription` in its place. Every live subscriber shares `LIVE`
    (it holds nothing), so a live subscriber costs its channel no object of its own."""

    __slots__ = ("parked", "replayed_through", "state")

    def __init__(self, state: SubscriberState, replayed_through: int = 0) -> None:
        self.state = state
        self.parked: Delivered = []  # while CATCHING_UP
        self.replayed_through = replayed_through  # while AHEAD


LIVE = Subscription(_LIVE)


class Channel:
    __slots__ = ("_plan", "_waiting", "epoch", "held", "key", "last_seq", "ready", "shared",
                 "subscribers", "tenant_id", "url_id")

    def __init__(self, key: str, tenant_id: str, url_id: str) -> None:
        self.key = key  # what the broker carries the channel under (bus.base.channel_key)
        self.tenant_id = tenant_id
        self.url_id = url_id
        self.subscribers: dict[Subscriber, Subscription] = {}
        # Subscriptions that are not LIVE: while none is, the fan-out takes every subscriber
        # without looking at their states.
        self._waiting = 0
        # Whom the fan-out writes to directly (fanout_plan.py); None: to be worked out.
        self._plan: FanoutPlan | None = None
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

    # subscribers ------------------------------------------------------------------------
    def subscribe(self, sub: Subscriber, *, catching_up: bool) -> None:
        """Add `sub`, or start it over (a resync): live, or catching up from the log."""
        if self.shared is not None:
            self.shared.forget(sub)  # a resync: the replay brings what it waited for
        self._put(sub, Subscription(_CATCHING_UP) if catching_up else LIVE)

    def unsubscribe(self, sub: Subscriber) -> bool:
        """Remove `sub`; False if it was not subscribed."""
        subscription = self.subscribers.pop(sub, None)
        if subscription is None:
            return False
        self._plan = None
        if subscription.state is not _LIVE:
            self._waiting -= 1
        if self.shared is not None:
            self.shared.forget(sub)
        return True

    def is_live(self, sub: Subscriber) -> bool:
        subscription = self.subscribers.get(sub)
        return subscription is not None and subscription.state is _LIVE

    def caught_up(self, sub: Subscriber, replayed_through: int | None) -> Delivered | None:
        """The replay of `sub` is over (it got the log up to `replayed_through`; None when
        it was refused): it turns live, and gets back the events parked meanwhile. None
        when `sub` left the channel in the meantime."""
        subscription = self.subscribers.get(sub)
        if subscription is None:
            return None
        parked = subscription.parked if subscription.state is _CATCHING_UP else []
        if replayed_through is not None and replayed_through > self.last_seq:
            self._put(sub, Subscription(SubscriberState.AHEAD, replayed_through))
        else:
            self._put(sub, LIVE)
        return parked

    def _put(self, sub: Subscriber, subscription: Subscription) -> None:
        old = self.subscribers.get(sub)
        if old is not None and old.state is not _LIVE:
            self._waiting -= 1
        if subscription.state is not _LIVE:
            self._waiting += 1
        self.subscribers[sub] = subscription
        self._plan = None

    def changed(self) -> None:
        """A subscriber's connection changed state (its handshake completed)."""
        self._plan = None

    def plan(self) -> FanoutPlan | None:
        """The fan-out plan while every subscriber is live (the usual case); None while
        some are catching up or ahead, whose events `receivers` sorts out one by one."""
        if self._waiting:
            return None
        if self._plan is None:
            self._plan = plan_for(self.subscribers)
        return self._plan

    def keeps(self, plan: FanoutPlan) -> bool:
        """Whether `plan` is still this channel's: nobody has come, gone or changed since."""
        return self._plan is plan

    def receivers(self, seq: int, payload: bytes) -> list[Subscriber]:
        """The subscribers that get logged event `seq` now (the hot path). Those catching up
        have it parked, for after their replay; those ahead skip what the log gave them."""
        if not self._waiting:
            return list(self.subscribers)
        out: list[Subscriber] = []
        subscribers = self.subscribers
        for sub, subscription in subscribers.items():
            state = subscription.state
            if state is not _LIVE:
                if state is _CATCHING_UP:
                    subscription.parked.append((seq, payload))
                    continue
                if seq <= subscription.replayed_through:
                    continue  # this client had it from the log already
                subscribers[sub] = LIVE  # assigning an existing key is safe while iterating
                self._waiting -= 1
                self._plan = None
            out.append(sub)
        return out

    # order ------------------------------------------------------------------------------
    def start(self, seq: int, epoch: str) -> Delivered:
        """The channel's position is known: deliver what arrived meanwhile and is newer."""
        self.ready = True
        self.last_seq = seq
        self.epoch = epoch
        for old in [s for s in self.held if s <= seq]:
            del self.held[old]
        return self._drain()

    def offer(self, seq: int, payload: bytes) -> Delivered:
        """Accept an event; returns the events now deliverable, in order."""
        if self.ready and seq <= self.last_seq:
            return []  # already delivered (a broker redelivery or a log catch-up overlap)
        self.held[seq] = payload
        return self._drain() if self.ready else []

    def _drain(self) -> Delivered:
        out: Delivered = []
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
