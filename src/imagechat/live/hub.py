"""The hub: this node's live part, put together from its parts.

Each module of live/ imports only modules listed below it:

    asgi           the WebSocket through an ASGI server's send/receive (any other server)
    connection     the WebSocket, as uvicorn's protocol class: bytes in, frames out
    hub            builds the parts below; routes what a connection asks for
    subscriptions  join, leave, drop: presence and resume of each connection
    upkeep         background loops: liveness, channel audit, history trim, usage writes
    admission      the handshake's checks; the one table from refusal to close code
    delivery       broker events to subscribers: order, gap fill, fan-out, batching
    replay         resume from the event log, all or nothing
    presence       `p-u` events, coalesced per channel
    inboxes        events for one visitor, to their connections only
    registry       this node's channels and connections; `Connection`, a protocol
    channel        one channel's subscribers, their states, and in-order delivery
    batching       array frames, paced, one shared queue per channel
    subscriber     `Subscriber`, the protocol the modules above deliver to
    frames, handshake, messages, forwarded, limits, meter, histogram, tasks, close_codes
                   leaves: sans-I/O parsing and encoding, bounds, counters

Where each guarantee is enforced is written at the top of the module that enforces it.
"""

from __future__ import annotations

import logging
from collections import Counter

from imagechat.bus.base import Broker, channel_key
from imagechat.domain.errors import ImageChatError
from imagechat.live.admission import Admission, refuse
from imagechat.live.close_codes import CloseCode
from imagechat.live.delivery import Delivery
from imagechat.live.handshake import Request
from imagechat.live.inboxes import Inboxes
from imagechat.live.limits import LiveLimits
from imagechat.live.messages import Join, parse_message
from imagechat.live.meter import UsageMeter
from imagechat.live.presence import PresenceTracker
from imagechat.live.registry import Connection, Registry
from imagechat.live.subscriber import Batch
from imagechat.live.subscriptions import Subscriptions
from imagechat.live.tasks import BackgroundTasks
from imagechat.live.upkeep import Upkeep
from imagechat.rate_limit.policy import RateLimits
from imagechat.services.container import Services

log = logging.getLogger("imagechat.live")


class Hub:
    def __init__(self, services: Services, broker: Broker, limits: LiveLimits,
                 rate_limits: RateLimits | None = None) -> None:
        self.services = services
        self.broker = broker
        self.limits = limits
        self.registry = Registry()
        # The registry's tables, read by the metrics endpoint and the dashboard.
        self.channels = self.registry.channels
        self.connections = self.registry.connections
        self.per_address = self.registry.per_address
        # Operator counters (events delivered, resyncs served, slow consumers...), read by
        # the metrics endpoint when scraped.
        self.stats: Counter[str] = Counter()
        self.tasks = BackgroundTasks()
        self.meter = UsageMeter(services.usage)
        self.delivery = Delivery(self.registry, broker, services.history, services.clock,
                                 self.meter, self.stats, limits.gap_wait_secs, self.tasks)
        self.broker_lag = self.delivery.broker_lag
        self.presence = PresenceTracker(broker, self.registry.channels, self.tasks.spawn,
                                        limits.presence_interval_secs)
        self.subscriptions = Subscriptions(self.registry, self.delivery, self.presence,
                                           services.history, self.meter, self.stats,
                                           limits.max_channels_per_connection)
        self.admission = Admission(self.registry, services.tenants, services.clock,
                                   rate_limits, self.stats, limits.max_connections_per_address)
        self.upkeep = Upkeep(self.registry, self.delivery, self.meter, services.history,
                             services.clock, limits)
        self.inboxes = Inboxes(self.registry, broker, self.meter, self.tasks)
        broker.set_handler(self._on_message)
        broker.set_reconnect_handler(self.delivery.on_reconnect)

    # lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.upkeep.start()

    async def stop(self) -> None:
        for conn in list(self.registry.connections):
            conn.close(CloseCode.GOING_AWAY, "Server shutting down.")
        self.upkeep.cancel()
        self.tasks.cancel()
        self.delivery.stop()
        await self.upkeep.stopped()
        self.presence.stop()
        await self.meter.flush()

    # what a connection asks for ---------------------------------------------------------
    def admit(self, conn: Connection, request: Request) -> None:
        """The connection's handshake was read: check it, then join its first channel."""
        if self.admission.take_address_slot(conn):
            self.tasks.spawn(self._admit(conn, request))

    async def _admit(self, conn: Connection, request: Request) -> None:
        try:
            admitted = await self.admission.check(conn, request)
        except Exception:
            # A database that does not answer (or a pool with no connection free): the
            # client is told to come back, rather than left waiting for its 101.
            log.warning("admission failed", exc_info=True)
            conn.close(CloseCode.UNAVAILABLE, "The database is not available; retry.")
            return
        if admitted is None:
            return
        conn.tenant = admitted.tenant
        conn.user_id_ws = admitted.user_id_ws
        if admitted.batch:
            conn.batch = Batch(conn)
        self.registry.connections.add(conn)
        self.meter.viewer_joined(admitted.tenant.id)
        # Join first, then complete the handshake: once the client has its 101, every
        # event committed from then on is newer than the channel position read here.
        if admitted.inbox is not None:
            await self.inboxes.open(conn, admitted.inbox)
        if admitted.actor is not None:
            self.tasks.spawn(self.services.users.seen(admitted.actor))
        await self.subscriptions.join(conn, admitted.url_id, admitted.since, admitted.epoch)
        if conn.closing:
            return
        early = conn.admitted_now()
        for key in conn.channel_keys:  # its state changed: the fan-out may write directly
            channel = self.registry.channels.get(key)
            if channel is not None:
                channel.changed()
        for message in early:
            self.on_text(conn, message)

    async def _on_message(self, key: str, payload: bytes) -> None:
        """From the broker: a visitor's own event, or a channel's."""
        if not self.inboxes.deliver(key, payload):
            await self.delivery.on_message(key, payload)

    def on_text(self, conn: Connection, payload: bytes) -> None:
        try:
            message = parse_message(payload)
        except ImageChatError as exc:
            refuse(conn, exc)
            return
        if isinstance(message, Join):
            self.tasks.spawn(self.subscriptions.join(conn, message.url_id, message.since,
                                                     message.epoch))
        elif message is not None:
            self.subscriptions.leave(conn, message.url_id)

    def drop(self, conn: Connection) -> None:
        """The connection is gone (or going): forget it everywhere."""
        self.inboxes.close(conn)
        self.subscriptions.drop(conn)

    # read by the dashboard --------------------------------------------------------------
    async def viewers(self, tenant_id: str, url_id: str) -> int:
        """Viewers of one image now: this node's subscribers, plus, with a shared broker,
        the other nodes' (as of their last presence update)."""
        key = channel_key(tenant_id, url_id)
        channel = self.registry.channels.get(key)
        local = len(channel.subscribers) if channel is not None else 0
        return await self.broker.viewers(key, local)
