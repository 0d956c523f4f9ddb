"""The hub built in memory: event payloads in from a fake broker, frames out to fake
connections. Held events, gap fill, the resume merge and slow consumers, each checked by
the seqs every subscriber ends up with: each event once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from imagechat.live.channel import SubscriberState
from imagechat.live.close_codes import CloseCode
from imagechat.live.connection import LiveConnection
from imagechat.live.frames import OP_CLOSE, OP_PING, OP_TEXT, encode_frame, parse_close
from imagechat.live.hub import Hub
from imagechat.live.limits import LiveLimits
from tests.unit.live.client_frames import server_frames
from tests.unit.live.hub_fakes import (
    IMAGE,
    KEY,
    FakeBroker,
    FakeConnection,
    FakeLog,
    Gate,
    build_hub,
    event,
    joined,
    settle,
)

Lab = tuple[Hub, FakeBroker, FakeLog]


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    hub, broker, log = build_hub()
    yield hub, broker, log
    await hub.stop()


# --- held events ---------------------------------------------------------------------


async def test_events_that_arrive_while_the_position_is_read_are_held(lab: Lab) -> None:
    hub, broker, log = lab
    log.commit(4)
    gate = log.position_gate = Gate()
    ann = asyncio.create_task(joined(hub))
    await settle(lambda: gate.waiting == 1)
    # Subscribed on the broker before the position is read: nothing committed after the
    # read can be missed. The client has no 101 yet.
    assert KEY in broker.keys
    await broker.deliver(event(3), event(5), event(4), event(6))
    gate.opened.set()
    conn = await ann
    assert conn.seqs() == [5, 6]  # newer than the position (4), in order
    await broker.deliver(event(6), event(7))  # a redelivery, then a new one
    assert conn.seqs() == [5, 6, 7]
    assert hub.channels[KEY].held == {}


async def test_an_event_that_comes_early_waits_for_the_one_before(lab: Lab) -> None:
    hub, broker, _log = lab
    conn = await joined(hub)
    hub.delivery.gap_wait_secs = 3600.0  # the late event comes from the broker, not the log
    await broker.deliver(event(2))
    assert conn.seqs() == []
    assert hub.channels[KEY].gap == (1, 1)
    await broker.deliver(event(1))
    assert conn.seqs() == [1, 2]
    assert hub.channels[KEY].gap is None


# --- gap fill --------------------------------------------------------------------------


async def test_a_gap_is_filled_from_the_log_in_order(lab: Lab) -> None:
    hub, broker, log = lab
    one, two, three = log.commit(3)
    ann = await joined(hub)
    bob = await joined(hub, f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=bob")
    hub.channels[KEY].start(0, log.epoch)  # this node has delivered nothing yet
    await broker.deliver(one, three)  # two never came through the broker
    assert ann.seqs() == [1]
    await settle(lambda: ann.seqs() == [1, 2, 3])
    await broker.deliver(two)  # arriving late after all: already delivered
    assert ann.seqs() == bob.seqs() == [1, 2, 3]
    assert hub.stats["events_delivered"] == 6


async def test_a_gap_the_log_cannot_fill_tells_every_subscriber_to_resync(lab: Lab) -> None:
    hub, broker, log = lab
    one, _two, three = log.commit(3)
    log.lose(2)
    ann = await joined(hub)
    bob = await joined(hub, f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=bob")
    hub.channels[KEY].start(0, log.epoch)
    await broker.deliver(one, three)
    await settle(lambda: len(ann.seqs()) == 2 and len(bob.seqs()) == 2)
    # Event 3 is never delivered after a hole: everyone reloads from position 3.
    assert ann.seqs() == bob.seqs() == [1, "resync-required@3"]
    await broker.deliver(event(4))
    assert ann.seqs() == [1, "resync-required@3", 4]


async def test_an_event_committed_but_never_published_is_caught_up_by_the_audit(
    lab: Lab,
) -> None:
    hub, broker, log = lab
    conn = await joined(hub)
    log.commit(2)  # its writer died before publishing
    await hub.upkeep.audit()
    assert conn.seqs() == [1, 2]
    await hub.delivery.on_reconnect()  # nothing new in the log: nothing sent again
    await broker.deliver(event(2), event(3))
    assert conn.seqs() == [1, 2, 3]


# --- resume ------------------------------------------------------------------------------


async def resuming(
    hub: Hub, log: FakeLog, since: int
) -> tuple[asyncio.Task[FakeConnection], Gate]:
    """A second viewer resuming from `since`, held while its replay is read."""
    gate = log.replay_gate = Gate()
    task = asyncio.create_task(joined(
        hub, f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=bob&since={since}&epoch={log.epoch}"))
    await settle(lambda: gate.waiting == 1)
    return task, gate


async def test_live_events_during_a_replay_wait_and_follow_it_each_once(lab: Lab) -> None:
    hub, broker, log = lab
    log.commit(5)
    ann = await joined(hub)
    bob_joining, gate = await resuming(hub, log, since=2)  # the log read holds 3..5
    six, seven = log.commit(2)
    await broker.deliver(six, seven)
    assert ann.seqs() == [6, 7]
    gate.opened.set()
    bob = await bob_joining
    await broker.deliver(event(8))
    assert bob.seqs() == [3, 4, 5, 6, 7, "resumed@7", 8]
    assert ann.seqs() == [6, 7, 8]
    assert hub.stats["resyncs_served"] == 1


async def test_a_replay_that_already_has_the_parked_events_sends_them_once(lab: Lab) -> None:
    hub, broker, log = lab
    log.commit(5)
    ann = await joined(hub)
    log.commit(2)  # 6 and 7: in the log when the replay is read, not yet from the broker
    bob_joining, gate = await resuming(hub, log, since=2)
    await broker.deliver(event(6))  # parked for bob, but its replay has it too
    gate.opened.set()
    bob = await bob_joining
    # The log was ahead of this node: 7 is skipped when the broker brings it, 8 is not.
    assert hub.channels[KEY].subscribers[bob].state is SubscriberState.AHEAD  # type: ignore[index]
    await broker.deliver(event(7), event(8))
    assert bob.seqs() == [3, 4, 5, 6, 7, "resumed@7", 8]
    assert ann.seqs() == [6, 7, 8]
    assert hub.channels[KEY].subscribers[bob].state is SubscriberState.LIVE  # type: ignore[index]


async def test_a_resume_the_log_cannot_cover_gets_resync_required(lab: Lab) -> None:
    hub, broker, log = lab
    log.commit(5)
    log.lose(3)  # trimmed
    await joined(hub)
    bob_joining, gate = await resuming(hub, log, since=2)
    await broker.deliver(*log.commit(1))
    gate.opened.set()
    bob = await bob_joining
    assert bob.seqs() == ["resync-required@6"]
    await broker.deliver(event(7))  # live from here: the client reloads, then applies 7
    assert bob.seqs() == ["resync-required@6", 7]
    assert hub.stats["resyncs_refused"] == 1


async def test_a_resync_message_replays_the_gap_a_client_saw(lab: Lab) -> None:
    hub, broker, log = lab
    conn = await joined(hub)
    await broker.deliver(*log.commit(3))
    hub.on_text(conn, b'{"op":"resync","urlId":"img-1","since":1}')  # type: ignore[arg-type]
    await settle(lambda: len(conn.seqs()) == 6)
    assert conn.seqs() == [1, 2, 3, 2, 3, "resumed@3"]


# --- slow consumers ------------------------------------------------------------------------


async def test_a_slow_consumer_is_dropped_and_the_others_get_every_event(lab: Lab) -> None:
    hub, broker, log = lab
    fast = await joined(hub)
    slow = await joined(hub, f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=bob", capacity=2)
    later = await joined(hub, f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=cy")
    await broker.deliver(*log.commit(5))
    assert slow.closed_with is not None and slow.closed_with[0] == CloseCode.SLOW_CONSUMER
    assert slow not in hub.connections
    assert slow not in hub.channels[KEY].subscribers  # type: ignore[comparison-overlap]
    assert fast.seqs() == later.seqs() == [1, 2, 3, 4, 5]
    assert slow.seqs() == [1, 2, 3]  # the frame that overflowed was its last
    assert hub.stats["events_delivered"] == 12  # 5 + 5, and slow's 2 before it overflowed


class Transport:
    """A socket that drains at once, or (`stuck`) never: every byte stays unsent."""

    def __init__(self, *, stuck: bool) -> None:
        self.stuck = stuck
        self.written = bytearray()
        self.writes = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data
        self.writes += 1

    def get_write_buffer_size(self) -> int:
        return len(self.written) if self.stuck else 0

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("203.0.113.7", 50123) if name == "peername" else default

    def frames(self) -> list[tuple[bool, int, bytes]]:
        head, _, rest = bytes(self.written).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        return server_frames(rest)


def connected(hub: Hub, *, stuck: bool) -> Transport:
    conn = LiveConnection(app_state={"hub": hub})
    transport = Transport(stuck=stuck)
    conn.connection_made(transport)  # type: ignore[arg-type]
    conn.data_received(
        f"GET /sub?urlId={IMAGE}&tenantIdWS=t1&userIdWS=v HTTP/1.1\r\nHost: chat.example.com\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode())
    return transport


async def test_a_connection_past_its_send_buffer_closes_with_4001() -> None:
    hub, broker, log = build_hub(LiveLimits(presence_interval_secs=3600.0,
                                            max_send_buffer=1000))
    try:
        stuck, healthy = connected(hub, stuck=True), connected(hub, stuck=False)
        await settle(lambda: len(hub.connections) == 2 and b"101" in healthy.written)
        for payload in log.commit(20):  # about 100 bytes each, each in a turn of its own
            await broker.deliver(payload)
        frames = stuck.frames()
        assert frames[-1][1] == OP_CLOSE
        assert parse_close(frames[-1][2])[0] == CloseCode.SLOW_CONSUMER
        assert len(frames) - 1 < 20
        assert stuck.closed
        assert [f[1] for f in healthy.frames()] == [OP_TEXT] * 20
        assert hub.stats["slow_consumer_disconnects"] == 1
        assert len(hub.connections) == 1
    finally:
        await hub.stop()


async def test_an_admission_the_database_fails_closes_with_4503() -> None:
    hub, _broker, _log = build_hub()

    async def down(tenant_id: str) -> object:
        raise TimeoutError("QueuePool limit reached")  # what a drained pool raises

    hub.admission.tenants.get = down  # type: ignore[method-assign]
    try:
        transport = connected(hub, stuck=False)
        await settle(lambda: transport.closed)
        frames = transport.frames()
        assert frames[-1][1] == OP_CLOSE
        assert parse_close(frames[-1][2])[0] == CloseCode.UNAVAILABLE
        assert hub.connections == set()
    finally:
        await hub.stop()


# --- liveness ----------------------------------------------------------------------------


async def test_a_silent_connection_is_pinged_then_closed_but_not_after_our_own_stall(
    lab: Lab,
) -> None:
    hub, _broker, _log = lab
    quiet, talking = await joined(hub), await joined(hub)
    beat, idle = hub.upkeep.limits.heartbeat_interval_secs, hub.upkeep.limits.idle_timeout_secs
    now = 10_000.0
    quiet.last_received, talking.last_received = now - beat - 0.01, now
    before, heard = len(quiet.frames), len(talking.frames)
    hub.upkeep.check_liveness(now)
    assert quiet.frames[before:] == [encode_frame(OP_PING, b"")] and quiet.closed_with is None
    assert len(talking.frames) == heard  # heard from just now: left alone
    # Past the idle timeout, but this process was the one that stalled: pinged, kept.
    later = now + idle
    hub.upkeep.check_liveness(later, stalled=True)
    assert quiet.closed_with is None and quiet.frames[-1] == encode_frame(OP_PING, b"")
    hub.upkeep.check_liveness(later)
    assert quiet.closed_with is not None and quiet.closed_with[0] == CloseCode.HEARTBEAT_TIMEOUT
    assert talking.closed_with is None  # silent for the idle timeout exactly, not past it
