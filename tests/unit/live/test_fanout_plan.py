"""The fan-out's plan: frames go straight to the transports of open, live, non-batching
subscribers, and the plan follows the channel as subscribers come, go and are admitted.
Real connections (LiveConnection) on fake transports, the hub in memory."""

from __future__ import annotations

import asyncio
import json
import socket

from imagechat.live.close_codes import CloseCode
from imagechat.live.connection import LiveConnection
from imagechat.live.frames import OP_CLOSE, OP_TEXT, parse_close
from imagechat.live.hub import Hub
from imagechat.live.limits import LiveLimits
from tests.unit.live.client_frames import server_frames
from tests.unit.live.hub_fakes import IMAGE, KEY, LIMITS, build_hub, event, settle
from tests.unit.live.test_hub import Transport, connected


def text_seqs(transport: Transport) -> list[int]:
    return [json.loads(payload)["seq"] for _fin, op, payload in transport.frames()
            if op == OP_TEXT and b'"seq"' in payload]


async def test_admitted_subscribers_are_written_directly_and_each_gets_every_event() -> None:
    hub, broker, log = build_hub()
    try:
        transports = [connected(hub, stuck=False) for _ in range(3)]
        await settle(lambda: all(b"101" in t.written for t in transports))
        before = [t.writes for t in transports]
        await broker.deliver(*log.commit(3))
        plan = hub.channels[KEY].plan()
        assert plan is not None
        assert len(plan.direct) == 3 and plan.others == []  # all of them, no one by write
        assert all(text_seqs(t) == [1, 2, 3] for t in transports)
        # The three events that came in one turn went to each transport in one write.
        assert [t.writes - b for t, b in zip(transports, before, strict=True)] == [1, 1, 1]
        assert hub.stats["events_delivered"] == 9
    finally:
        await hub.stop()


async def test_the_plan_changes_when_a_subscriber_joins_or_leaves() -> None:
    hub, broker, log = build_hub()
    try:
        first = connected(hub, stuck=False)
        await settle(lambda: b"101" in first.written)
        await broker.deliver(*log.commit(1))
        second = connected(hub, stuck=False)
        await settle(lambda: b"101" in second.written)
        await broker.deliver(*log.commit(1))
        assert text_seqs(first) == [1, 2] and text_seqs(second) == [2]
        leaving = next(c for c in hub.connections
                       if isinstance(c, LiveConnection) and c.transport is first)
        leaving.close(1000, "")
        await broker.deliver(*log.commit(1))
        # Nothing after its close frame, and the others still get every event.
        assert first.frames()[-1][1] == OP_CLOSE
        assert text_seqs(first) == [1, 2] and text_seqs(second) == [2, 3]
        plan = hub.channels[KEY].plan()
        assert plan is not None and len(plan.direct) == 1
    finally:
        await hub.stop()


async def test_a_direct_write_past_the_send_buffer_closes_only_that_subscriber() -> None:
    hub, broker, log = build_hub(LiveLimits(presence_interval_secs=3600.0,
                                            gap_wait_secs=LIMITS.gap_wait_secs,
                                            max_send_buffer=1000))
    try:
        stuck, healthy = connected(hub, stuck=True), connected(hub, stuck=False)
        await settle(lambda: len(hub.connections) == 2 and b"101" in healthy.written)
        await broker.deliver(*log.commit(30))  # about 100 bytes each
        frames = stuck.frames()
        assert frames[-1][1] == OP_CLOSE
        assert parse_close(frames[-1][2])[0] == CloseCode.SLOW_CONSUMER
        assert [op for _f, op, _p in frames].count(OP_CLOSE) == 1
        assert text_seqs(healthy) == list(range(1, 31))
        assert hub.stats["slow_consumer_disconnects"] == 1
        # The 30 events came in one turn: one write each; the stuck one's overflowed, so its
        # frames are not counted as delivered.
        assert text_seqs(stuck) == list(range(1, 31))
        assert hub.stats["events_delivered"] == 30
    finally:
        await hub.stop()


async def _socket_subscriber(hub: Hub) -> socket.socket:
    """A LiveConnection on a real socket pair (the loop's own transport); the client end,
    past the 101 answer, is returned."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.create_connection(lambda: LiveConnection(app_state={"hub": hub}), sock=ours)
    theirs.sendall(
        f"GET /sub?urlId={IMAGE}&tenantIdWS=t1&userIdWS=v HTTP/1.1\r\nHost: chat.example.com\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode())
    return theirs


async def _read_all(sock: socket.socket, rounds: int = 50) -> bytes:
    data = b""
    for _ in range(rounds):
        await asyncio.sleep(0.01)
        try:
            while chunk := sock.recv(1 << 20):
                data += chunk
        except BlockingIOError:
            pass
    return data


async def test_frames_sent_on_real_sockets_arrive_whole_and_in_order() -> None:
    hub, broker, log = build_hub()
    try:
        clients = [await _socket_subscriber(hub) for _ in range(2)]
        await settle(lambda: len(hub.connections) == 2, rounds=2000)
        await asyncio.sleep(0.05)
        plan = hub.channels[KEY].plan()
        assert plan is not None and len(plan.direct) == 2
        assert all(fd >= 0 for _sub, _transport, fd in plan.direct)  # the send() path
        # Enough bytes that one socket's kernel buffer fills: what it does not take is
        # queued on the transport, and later frames queue behind it, in order.
        big = [event(seq) + b" " * 9_000 for seq in range(1, 41)]  # 360 kB: under the 512 KiB bound
        log.seqs[IMAGE] = 40
        await broker.deliver(*big)
        for client in clients:
            data = await _read_all(client)
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101 ")
            seqs = [json.loads(p)["seq"] for _f, op, p in server_frames(rest)
                    if op == OP_TEXT and b'"seq"' in p]
            assert seqs == list(range(1, 41))
            client.close()
    finally:
        await hub.stop()


async def test_a_peer_gone_from_under_a_direct_write_is_dropped_quietly() -> None:
    hub, broker, log = build_hub()
    try:
        gone, staying = await _socket_subscriber(hub), await _socket_subscriber(hub)
        await settle(lambda: len(hub.connections) == 2, rounds=2000)
        await asyncio.sleep(0.05)
        await _read_all(gone, rounds=2)
        gone.close()  # the server learns of it only when it writes
        for _ in range(3):
            await broker.deliver(*log.commit(1))
            await asyncio.sleep(0.05)
        await settle(lambda: len(hub.connections) == 1, rounds=2000)
        assert len(hub.connections) == 1
        rest = (await _read_all(staying)).partition(b"\r\n\r\n")[2]
        assert [json.loads(p)["seq"] for _f, op, p in server_frames(rest)
                if op == OP_TEXT and b'"seq"' in p] == [1, 2, 3]
        staying.close()
    finally:
        await hub.stop()


async def test_what_is_held_for_the_turn_goes_out_before_anything_else_on_the_channel() -> None:
    hub, broker, log = build_hub()
    try:
        transport = connected(hub, stuck=False)
        await settle(lambda: b"101" in transport.written)
        handler = broker._handler
        assert handler is not None
        for payload in log.commit(2):
            await handler(KEY, payload)  # held until the turn ends...
        assert text_seqs(transport) == []
        # ...unless something else is sent on the channel first: then it goes out first.
        hub.delivery.fanout_live(hub.channels[KEY], b'{"type":"resync-required","seq":3}')
        types = [json.loads(p)["type"] for _f, op, p in transport.frames() if op == OP_TEXT]
        assert types == ["new-vote", "new-vote", "resync-required"]
    finally:
        await hub.stop()


async def test_a_subscriber_that_closes_before_the_turn_ends_gets_nothing_after_its_close(
) -> None:
    hub, broker, log = build_hub()
    try:
        leaving, staying = connected(hub, stuck=False), connected(hub, stuck=False)
        await settle(lambda: all(b"101" in t.written for t in (leaving, staying)))
        handler = broker._handler
        assert handler is not None
        await handler(KEY, log.commit(1)[0])
        conn = next(c for c in hub.connections
                    if isinstance(c, LiveConnection) and c.transport is leaving)
        conn.close(1000, "")
        await asyncio.sleep(0)  # the turn ends: the held frame is written
        assert [op for _f, op, _p in leaving.frames()] == [OP_CLOSE]
        assert text_seqs(staying) == [1]
        assert hub.stats["events_delivered"] == 1
    finally:
        await hub.stop()
