"""The hub: this node's channels, their subscribers, and delivery from the broker.

Guarantees (SPEC §4), and where they are enforced:
- per channel, events reach every subscriber in `seq` order, each once: `Channel.offer`
  holds early events and drops repeats; gaps are filled from the event log (`_fill_gap`);
- a node subscribes to a channel's topic before reading the channel's position, so no
  event committed after that read can be missed (`_start_channel`);
- a client resuming with `since` gets every later event exactly once before live ones, or
  `resync-required` (`replay.resume`);
- after the broker link returns, every channel catches up from the log (`on_reconnect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import Counter
from typing import Any

import orjson

from imagechat.auth.identity import resolve_actor
from imagechat.auth.origins import origin_allowed, same_host
from imagechat.bus.base import Broker, channel_topic
from imagechat.domain import rules
from imagechat.domain.errors import (
    ImageChatError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
)
from imagechat.domain.models import Tenant
from imagechat.live import replay
from imagechat.live.batching import Batch, BatchScheduler
from imagechat.live.channel import MAX_HELD_EVENTS, Channel
from imagechat.live.close_codes import CloseCode
from imagechat.live.connection import LiveConnection
from imagechat.live.frames import OP_PING, encode_frame, text_frame
from imagechat.live.handshake import Request
from imagechat.live.histogram import BROKER_LAG_BOUNDS_SECS, Histogram
from imagechat.live.limits import LiveLimits
from imagechat.live.meter import UsageMeter
from imagechat.live.presence import PresenceTracker
from imagechat.rate_limit.policy import RateLimits, address_key, visitor_key
from imagechat.services.container import Services
from imagechat.store import channels as channel_rows
from imagechat.store import event_log

log = logging.getLogger("imagechat.live")


class Hub:
    def __init__(self, services: Services, broker: Broker, limits: LiveLimits,
                 rate_limits: RateLimits | None = None) -> None:
        self.services = services
        self.broker = broker
        self.limits = limits
        self.rate_limits = rate_limits
        self.channels: dict[str, Channel] = {}
        self.connections: set[LiveConnection] = set()
        # Open connections per client address (admitted or not): bounded by connections.
        self.per_address: Counter[str] = Counter()
        self.meter = UsageMeter(services.usage)
        self.batches = BatchScheduler(self._count_sent, self.meter.count)
        self.presence = PresenceTracker(self, limits.presence_interval_secs)
        # Operator counters (events delivered, resyncs served, slow consumers...), read by
        # the metrics endpoint when scraped.
        self.stats: Counter[str] = Counter()
        # Seconds from an event's creation to its arrival here from the broker.
        self.broker_lag = Histogram(BROKER_LAG_BOUNDS_SECS)
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._gap_tasks: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        broker.set_handler(self.on_message)
        broker.set_reconnect_handler(self.on_reconnect)

    # lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._loops = [asyncio.create_task(self._heartbeat_loop()),
                       asyncio.create_task(self._meter_loop()),
                       asyncio.create_task(self._audit_loop()),
                       asyncio.create_task(self._trim_loop())]

    async def stop(self) -> None:
        for conn in list(self.connections):
            conn.close(CloseCode.GOING_AWAY, "Server shutting down.")
        for task in [*self._loops, *self._tasks, *self._gap_tasks.values()]:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.batches.stop()
        self.presence.stop()
        await self.meter.flush()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # admission --------------------------------------------------------------------------
    def admit(self, conn: LiveConnection, request: Request) -> None:
        bound = self.limits.max_connections_per_address
        if bound:
            key = address_key(conn.address)
            if self.per_address[key] >= bound:
                self.stats["address_full_refusals"] += 1
                conn.close(CloseCode.RATE_LIMITED,
                           f"Too many open connections from your address (at most {bound}).")
                return
            self.per_address[key] += 1
            conn.address_slot = key
        self.spawn(self._admit(conn, request))

    async def _admit(self, conn: LiveConnection, request: Request) -> None:
        params = request.params
        tenant_id = params.get("tenantIdWS") or params.get("tenantId") or ""
        url_id = params.get("urlId") or params.get("urlIdWS") or ""
        if not tenant_id or not url_id:
            conn.close(CloseCode.BAD_MESSAGE, "tenantIdWS and urlId are required.")
            return
        try:
            tenant = await self.tenant(tenant_id)
            origin = request.headers.get("origin")
            if (origin is not None and not same_host(origin, request.headers.get("host"))
                    and not origin_allowed(tenant, origin)):
                conn.close(CloseCode.ORIGIN_NOT_ALLOWED, "This origin may not connect here.")
                return
            actor = resolve_actor(tenant, sso_token=params.get("sso") or None,
                                  anon_user_id=None, now_ms=self.services.clock.now_ms())
            since, epoch = _since(params)
            if self.rate_limits is not None:
                await self.rate_limits.check_connect(tenant.id, visitor_key(actor, conn.address))
        except NotFound:
            conn.close(CloseCode.TENANT_NOT_FOUND, f"No site with tenant id {tenant_id!r}.")
            return
        except NotAuthenticated as exc:
            conn.close(CloseCode.UNAUTHENTICATED, exc.reason)
            return
        except Unavailable as exc:
            conn.close(CloseCode.UNAVAILABLE, exc.reason)
            return
        except RateLimited as exc:
            self.stats["rate_limited_connects"] += 1
            conn.close(CloseCode.RATE_LIMITED, exc.reason)
            return
        except ImageChatError as exc:
            conn.close(CloseCode.BAD_MESSAGE, exc.reason)
            return
        if conn.closing:
            return
        conn.tenant = tenant
        user_id_ws = actor.ws_user_id or params.get("userIdWS") or ""
        conn.user_id_ws = user_id_ws[:128] or f"v-{secrets.token_hex(6)}"
        if params.get("batch") in ("1", "true"):
            conn.batch = Batch(conn)
        self.connections.add(conn)
        self.meter.viewer_joined(tenant.id)
        # Join first, then complete the handshake: once the client has its 101, every
        # event committed from then on is newer than the channel position read here.
        await self.join(conn, url_id, since, epoch)
        if conn.closing:
            return
        for message in conn.admitted_now():
            self.on_text(conn, message)

    async def tenant(self, tenant_id: str) -> Tenant:
        rules.require_id(tenant_id, "tenantId")
        return await self.services.tenants.get(tenant_id)

    # client operations ------------------------------------------------------------------
    def on_text(self, conn: LiveConnection, payload: bytes) -> None:
        if payload.strip() == b"ping":
            return  # the reference clients' keep-alive; liveness is already noted
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            conn.close(CloseCode.BAD_MESSAGE, "Messages are JSON objects or the text `ping`.")
            return
        op = message.get("op") if isinstance(message, dict) else None
        url_id = message.get("urlId") if isinstance(message, dict) else None
        if op == "join" or op == "resync":
            try:
                since, epoch = _since(message)
            except ImageChatError as exc:
                conn.close(CloseCode.BAD_MESSAGE, exc.reason)
                return
            self.spawn(self.join(conn, url_id, since, epoch))
        elif op == "leave":
            self.leave(conn, url_id)
        else:
            conn.close(CloseCode.BAD_MESSAGE, "Unknown operation; use join, leave or resync.")

    async def join(
        self, conn: LiveConnection, raw_url_id: Any, since: int | None, epoch: str | None
    ) -> None:
        tenant = conn.tenant
        if tenant is None or conn.closing:
            return
        found = self._topic_of(conn, tenant, raw_url_id)
        if found is None:
            return
        topic, url_id = found
        joined_before = topic in conn.topics
        if not joined_before and len(conn.topics) >= self.limits.max_channels_per_connection:
            conn.close(CloseCode.TOO_MANY_CHANNELS,
                       f"At most {self.limits.max_channels_per_connection} images per connection.")
            return
        channel = self.channels.get(topic)
        if channel is None:
            channel = Channel(topic, tenant.id, url_id)
            self.channels[topic] = channel
            self._starting[topic] = asyncio.create_task(self._start_channel(channel))
        if channel.shared is not None:
            channel.shared.forget(conn)  # a resync: the replay brings what it waited for
        # Subscribe before waiting: events that arrive meanwhile are kept for this client.
        channel.subscribers[conn] = [] if since is not None else None
        conn.topics.add(topic)
        starting = self._starting.get(topic)
        if starting is not None:
            try:
                await asyncio.shield(starting)
            except Exception:
                conn.close(CloseCode.UNAVAILABLE, "The database is not available; retry.")
                return
        if conn.closing:
            return
        if not joined_before:
            self.presence.joined(channel, conn.user_id_ws)
        if since is not None:
            await replay.resume(self, conn, channel, since, epoch)

    def leave(self, conn: LiveConnection, raw_url_id: Any) -> None:
        if conn.tenant is None:
            return
        found = self._topic_of(conn, conn.tenant, raw_url_id)
        if found is not None:
            self._unsubscribe(conn, found[0])

    @staticmethod
    def _topic_of(
        conn: LiveConnection, tenant: Tenant, raw_url_id: Any
    ) -> tuple[str, str] | None:
        """The (topic, clean urlId) a client names; a bad urlId closes the connection."""
        try:
            url_id = rules.clean_url_id(raw_url_id)
        except ImageChatError as exc:
            conn.close(CloseCode.BAD_MESSAGE, exc.reason)
            return None
        return channel_topic(tenant.id, url_id), url_id

    def drop(self, conn: LiveConnection) -> None:
        """The connection is gone (or going): forget it everywhere."""
        if conn in self.connections:
            self.connections.discard(conn)
            if conn.tenant is not None:
                self.meter.viewer_left(conn.tenant.id)
        if conn.address_slot is not None:
            key, conn.address_slot = conn.address_slot, None
            self.per_address[key] -= 1
            if self.per_address[key] <= 0:
                del self.per_address[key]
        if conn.batch is not None:
            self.batches.discard(conn.batch)
        for topic in list(conn.topics):
            self._unsubscribe(conn, topic)

    def _unsubscribe(self, conn: LiveConnection, topic: str) -> None:
        conn.topics.discard(topic)
        channel = self.channels.get(topic)
        if channel is None or channel.subscribers.pop(conn, False) is False:
            return
        if channel.shared is not None:
            channel.shared.forget(conn)
        self.presence.left(channel, conn.user_id_ws)
        if not channel.subscribers:
            # The last local subscriber left: stop receiving this topic on this node.
            del self.channels[topic]
            gap = self._gap_tasks.pop(topic, None)
            if gap is not None:
                gap.cancel()
            self.spawn(self._release(topic))

    async def _release(self, topic: str) -> None:
        # A client may have joined the topic again since this was scheduled; then the
        # subscription stays (its new channel subscribed, or is about to).
        if topic not in self.channels:
            await self.broker.unsubscribe(topic)

    # channels ---------------------------------------------------------------------------
    async def _start_channel(self, channel: Channel) -> None:
        try:
            await self.broker.subscribe(channel.topic)
            async with self.services.db.read() as db:
                position = await channel_rows.position(db, channel.tenant_id, channel.url_id)
            seq, epoch = (position.seq, position.epoch) if position else (0, "")
            self._deliver(channel, channel.start(seq, epoch))
        except Exception:
            if self.channels.get(channel.topic) is channel:
                del self.channels[channel.topic]
            raise
        finally:
            self._starting.pop(channel.topic, None)

    async def on_message(self, topic: str, payload: bytes) -> None:
        """A message from the broker: a logged event (with `seq`) or presence."""
        channel = self.channels.get(topic)
        if channel is None:
            return
        seq, created_ms = _stamp_of(payload)
        if seq is None:
            self._fanout_live(channel, payload)
            return
        if created_ms is not None:
            # Clocks of different nodes may disagree by a little; a negative lag is noise.
            self.broker_lag.observe(max(0, self.services.clock.now_ms() - created_ms) / 1000)
        self._deliver(channel, channel.offer(seq, payload))
        if channel.gap is not None and topic not in self._gap_tasks:
            self._gap_tasks[topic] = asyncio.create_task(self._fill_gap(channel))

    def _deliver(self, channel: Channel, ready: list[tuple[int, bytes]]) -> None:
        for seq, payload in ready:
            self._fanout(channel, seq, payload)

    def _fanout(self, channel: Channel, seq: int, payload: bytes) -> None:
        """The hot path: one event to every subscriber that should get it now."""
        receivers = []
        for conn, state in channel.subscribers.items():
            if state is not None:
                if isinstance(state, list):
                    state.append((seq, payload))  # catching up: delivered after the replay
                    continue
                if seq <= state:
                    continue  # this client had it from the log already
                channel.subscribers[conn] = None  # assigning an existing key is safe here
            receivers.append(conn)
        self.stats["events_delivered"] += self._send(channel, receivers, payload)

    def _fanout_live(self, channel: Channel, payload: bytes) -> None:
        """Unlogged events (presence, resync notices): to every subscriber, no seq."""
        self._send(channel, list(channel.subscribers), payload)

    def _send(self, channel: Channel, receivers: list[LiveConnection], payload: bytes) -> int:
        """How many connections the event went to (written now or batched)."""
        # Encoded once; the same bytes go to every socket. A write may close a slow
        # connection, which unsubscribes it: hence a list, not the live dict.
        frame = text_frame(payload)
        sent = 0
        batched = 0
        shared: list[LiveConnection] = []
        states = channel.subscribers
        for conn in receivers:
            if conn.batch is None:
                if conn.write(frame):
                    sent += 1
            elif states.get(conn, 0) is None:
                shared.append(conn)  # live: queued once for all of them
            else:
                self.batches.add(conn.batch, payload)  # catching up: paced on its own
                batched += 1
        if sent:
            self.meter.count(channel.tenant_id, sent, sent * len(frame))
        if shared:
            self.batches.add_shared(channel.shared_batch(), shared, payload)
        return sent + batched + len(shared)

    def _count_sent(self, conn: LiveConnection, size: int) -> None:
        if conn.tenant is not None:
            self.meter.count(conn.tenant.id, 1, size)

    async def _fill_gap(self, channel: Channel) -> None:
        """Events arrived out of order: wait briefly for the missing ones, then read them."""
        try:
            await asyncio.sleep(self.limits.gap_wait_secs if len(channel.held) < MAX_HELD_EVENTS
                                else 0)
            while (gap := channel.gap) is not None and self.channels.get(channel.topic) is channel:
                await self.catch_up(channel)
                if channel.gap == gap:
                    # The log does not have them (trimmed or lost): nobody can be sure of
                    # this channel's history any more.
                    self._resync_everyone(channel)
                    return
        finally:
            self._gap_tasks.pop(channel.topic, None)

    async def catch_up(self, channel: Channel) -> None:
        """Deliver what the log has after the last delivered seq."""
        async with self.services.db.read() as db:
            found = await event_log.since_seq(db, channel.tenant_id, channel.url_id,
                                              channel.last_seq)
        for event in found:
            self._deliver(channel, channel.offer(event.seq, event.data.encode()))

    async def on_reconnect(self) -> None:
        """The broker link is back: events published meanwhile are only in the log."""
        for channel in list(self.channels.values()):
            if channel.ready:
                try:
                    await self.catch_up(channel)
                except Exception:
                    log.warning("catch-up failed for %s", channel.url_id, exc_info=True)

    def _resync_everyone(self, channel: Channel) -> None:
        async def restart() -> None:
            async with self.services.db.read() as db:
                position = await channel_rows.position(db, channel.tenant_id, channel.url_id)
            channel.held.clear()
            channel.start(position.seq if position else 0, position.epoch if position else "")
            self._fanout_live(channel, replay.resync_required(channel))

        self.spawn(restart())

    # liveness ---------------------------------------------------------------------------
    async def _heartbeat_loop(self) -> None:
        ping = encode_frame(OP_PING, b"")
        while True:
            await asyncio.sleep(self.limits.heartbeat_interval_secs / 2)
            now = time.monotonic()
            for conn in list(self.connections):
                silent = now - conn.last_received
                if silent > self.limits.idle_timeout_secs:
                    conn.close(CloseCode.HEARTBEAT_TIMEOUT, "No traffic for too long.")
                elif silent > self.limits.heartbeat_interval_secs:
                    conn.write(ping)

    async def _audit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.audit_interval_secs)
            try:
                await self.audit()
            except Exception:
                log.warning("channel audit failed", exc_info=True)

    async def audit(self) -> None:
        """Catch up every channel whose log is ahead of what this node delivered."""
        ready = [c for c in self.channels.values() if c.ready]
        if not ready:
            return
        async with self.services.db.read() as db:
            latest = await channel_rows.latest_seqs(db, [(c.tenant_id, c.url_id) for c in ready])
        for channel in ready:
            behind = latest.get((channel.tenant_id, channel.url_id), 0) > channel.last_seq
            if behind and channel.topic not in self._gap_tasks:
                await self.catch_up(channel)

    async def _trim_loop(self) -> None:
        while True:
            try:
                await self.services.history.trim(
                    max_events=self.limits.history_max_events,
                    max_age_ms=self.limits.history_max_age_ms,
                    now_ms=self.services.clock.now_ms(),
                )
            except Exception:
                log.warning("history trim failed", exc_info=True)
            await asyncio.sleep(self.limits.history_trim_secs)

    async def _meter_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits.meter_flush_secs)
            await self.meter.flush()


    async def viewers(self, tenant_id: str, url_id: str) -> int:
        """Viewers of one image now: this node's subscribers, plus, with a shared broker,
        the other nodes' (as of their last presence update)."""
        channel = self.channels.get(channel_topic(tenant_id, url_id))
        local = len(channel.subscribers) if channel is not None else 0
        return await self.broker.viewers(channel_topic(tenant_id, url_id), local)


def _since(params: Any) -> tuple[int | None, str | None]:
    raw = params.get("since")
    epoch = params.get("epoch")
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, (bool, float)):
        raise ImageChatError("`since` must be a whole number.")
    try:
        since = int(raw)
    except (TypeError, ValueError):
        raise ImageChatError("`since` must be a whole number.") from None
    if since < 0:
        raise ImageChatError("`since` must not be negative.")
    return since, epoch if isinstance(epoch, str) and epoch else None


def _stamp_of(payload: bytes) -> tuple[int | None, int | None]:
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
