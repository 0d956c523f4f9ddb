"""A hub built in memory: a fake broker, an event log in memory, and fake connections.

Bytes in (handshake bytes, event payloads as the broker carries them), frames out (what
each fake connection was written, decoded as a client would).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from imagechat.bus.base import MessageHandler, ReconnectHandler, channel_key
from imagechat.domain.clock import FixedClock
from imagechat.domain.errors import NotFound
from imagechat.domain.models import ChannelPosition, StoredEvent, Tenant
from imagechat.live.close_codes import CloseCode
from imagechat.live.frames import OP_TEXT
from imagechat.live.handshake import Request, parse_request
from imagechat.live.hub import Hub
from imagechat.live.limits import LiveLimits
from imagechat.live.subscriber import Batch
from imagechat.services.history import Replay
from imagechat.services.usage import LiveUsage
from tests.unit.live.client_frames import server_frames

NOW_MS = 1_764_085_500_000
TENANT = Tenant(id="t1", name="Blog", api_secret="s", allow_anonymous=True,
                allow_simple_sso=False, allowed_origins=(), created_at=0)
IMAGE = "img-1"
KEY = channel_key(TENANT.id, IMAGE)
# Presence updates are left pending for the whole test (they would only add p-u frames),
# and a gap is filled from the log as soon as the loop runs.
LIMITS = LiveLimits(presence_interval_secs=3600.0, gap_wait_secs=0.0)


def event(seq: int, url_id: str = IMAGE) -> bytes:
    return json.dumps({"type": "new-vote", "timestamp": NOW_MS, "broadcastId": None,
                       "seq": seq, "urlId": url_id}, separators=(",", ":")).encode()


class FakeBroker:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.published: list[tuple[str, bytes]] = []
        self._handler: MessageHandler | None = None
        self._on_reconnect: ReconnectHandler | None = None

    def set_handler(self, handler: MessageHandler) -> None:
        self._handler = handler

    def set_reconnect_handler(self, handler: ReconnectHandler) -> None:
        self._on_reconnect = handler

    async def subscribe(self, key: str) -> None:
        self.keys.add(key)

    async def unsubscribe(self, key: str) -> None:
        self.keys.discard(key)

    async def publish(self, key: str, payload: bytes) -> None:
        self.published.append((key, payload))  # presence: not looped back

    async def viewers(self, key: str, local_count: int) -> int:
        return local_count

    async def deliver(self, *payloads: bytes, key: str = KEY) -> None:
        """Bytes in: the payloads as another node published them, in this order, read at
        once (as from one read of the broker's socket); then the loop's turn ends."""
        assert self._handler is not None
        for payload in payloads:
            await self._handler(key, payload)
        await asyncio.sleep(0)


class Gate:
    """Holds a read until the test opens it (to act while the hub waits on storage)."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.waiting = 0

    async def wait(self) -> None:
        self.waiting += 1
        await self.opened.wait()


class FakeLog:
    """The event log and channel positions in memory, answering as `HistoryService` does."""

    def __init__(self, epoch: str = "ep1") -> None:
        self.epoch = epoch
        self.seqs: dict[str, int] = {}
        self.events: dict[str, list[StoredEvent]] = {}
        self.position_gate: Gate | None = None
        self.replay_gate: Gate | None = None

    def commit(self, count: int = 1, url_id: str = IMAGE) -> list[bytes]:
        """Log `count` new events; their payloads, for the test to deliver (or not)."""
        payloads = []
        for _ in range(count):
            seq = self.seqs.get(url_id, 0) + 1
            self.seqs[url_id] = seq
            payload = event(seq, url_id)
            self.events.setdefault(url_id, []).append(StoredEvent(
                id=f"e{seq}", tenant_id=TENANT.id, url_id=url_id, seq=seq, type="new-vote",
                broadcast_id=None, created_at=NOW_MS, data=payload.decode()))
            payloads.append(payload)
        return payloads

    def lose(self, seq: int, url_id: str = IMAGE) -> None:
        """The log no longer has this event (trimmed, or lost)."""
        self.events[url_id] = [e for e in self.events[url_id] if e.seq != seq]

    async def position(self, tenant_id: str, url_id: str) -> ChannelPosition | None:
        if self.position_gate is not None:
            await self.position_gate.wait()
        seq = self.seqs.get(url_id)
        return None if seq is None else ChannelPosition(seq=seq, epoch=self.epoch)

    async def after(self, tenant_id: str, url_id: str, seq: int) -> list[StoredEvent]:
        return [e for e in self.events.get(url_id, []) if e.seq > seq]

    async def since(self, tenant: Tenant, url_id: str, since_seq: int,
                    epoch: str | None) -> Replay:
        # What the log holds when the read begins; the gate holds the answer back.
        found = [e for e in self.events.get(url_id, []) if e.seq > since_seq]
        seq = self.seqs.get(url_id)
        if self.replay_gate is not None:
            await self.replay_gate.wait()
        position = ChannelPosition(seq=seq or 0, epoch=self.epoch if seq else "")
        if seq is None:
            return Replay([], position, resync_required=since_seq != 0, has_more=False)
        if (epoch and epoch != self.epoch) or since_seq > seq:
            return Replay([], position, resync_required=True, has_more=False)
        if since_seq == seq:
            return Replay([], position, resync_required=False, has_more=False)
        if not found or found[0].seq != since_seq + 1:
            return Replay([], position, resync_required=True, has_more=False)
        return Replay(found, position, resync_required=False, has_more=False)

    async def latest_seqs(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {(t, u): self.seqs[u] for t, u in keys if u in self.seqs}


class FakeTenants:
    async def get(self, tenant_id: str) -> Tenant:
        if tenant_id != TENANT.id:
            raise NotFound("Tenant not found.")
        return TENANT


class FakeUsage:
    def __init__(self) -> None:
        self.rows: list[LiveUsage] = []

    async def add_live(self, rows: Sequence[LiveUsage]) -> None:
        self.rows += rows


def build_hub(limits: LiveLimits = LIMITS) -> tuple[Hub, FakeBroker, FakeLog]:
    broker, log = FakeBroker(), FakeLog()
    services = SimpleNamespace(history=log, tenants=FakeTenants(), usage=FakeUsage(),
                               clock=FixedClock(NOW_MS))
    return Hub(services, broker, limits), broker, log  # type: ignore[arg-type]


def request(query: str = f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=ann") -> Request:
    return parse_request(
        f"GET /sub?{query} HTTP/1.1\r\nHost: chat.example.com\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode())


class FakeConnection:
    """The hub's side of a connection; `capacity` frames at most, then it is a slow
    consumer and closes itself (as `LiveConnection.write` does past its send buffer)."""

    def __init__(self, hub: Hub, capacity: int | None = None) -> None:
        self.hub = hub
        self.capacity = capacity
        self.frames: list[bytes] = []
        self.closed_with: tuple[int, str] | None = None
        self.accepted = False
        self.tenant: Tenant | None = None
        self.batch: Batch | None = None
        self.user_id_ws = ""
        self.address = "203.0.113.7"
        self.address_slot: str | None = None
        self.channel_keys: set[str] = set()
        self.inbox_key: str | None = None
        self.last_received = 0.0

    @property
    def closing(self) -> bool:
        return self.closed_with is not None

    def write(self, frame: bytes) -> bool:
        if self.closing:
            return False
        self.frames.append(frame)
        if self.capacity is not None and len(self.frames) > self.capacity:
            self.close(CloseCode.SLOW_CONSUMER, "Too far behind; reconnect and resume.")
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closed_with = (code, reason)
            self.hub.drop(self)  # type: ignore[arg-type]

    def admitted_now(self) -> list[bytes]:
        self.accepted = True
        return []

    def received(self) -> list[Any]:
        """Frames out, as a client reads them: every message but presence."""
        out = []
        for fin, opcode, payload in server_frames(b"".join(self.frames)):
            assert fin and opcode == OP_TEXT
            message = json.loads(payload)
            if message.get("type") != "p-u":
                out.append(message)
        return out

    def seqs(self) -> list[int | str]:
        """The seq of each event; `resumed`/`resync-required` notices as `type@seq`."""
        return [m["seq"] if m["type"] == "new-vote" else f"{m['type']}@{m['seq']}"
                for m in self.received()]


async def settle(done: Callable[[], bool] = lambda: False, rounds: int = 200) -> None:
    """Let the loop run the hub's tasks: until `done()`, or `rounds` turns of the loop."""
    for _ in range(rounds):
        if done():
            return
        await asyncio.sleep(0)


async def joined(hub: Hub, query: str = f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=ann",
                 capacity: int | None = None) -> FakeConnection:
    """A connection admitted and joined to its image (its 101 written)."""
    conn = FakeConnection(hub, capacity)
    hub.admit(conn, request(query))  # type: ignore[arg-type]
    await settle(lambda: conn.accepted or conn.closing)
    assert conn.accepted, conn.closed_with
    return conn
