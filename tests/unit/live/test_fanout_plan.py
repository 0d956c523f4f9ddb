"""The fan-out's plan: frames go straight to the transports of open, live, non-batching
subscribers, and the plan follows the channel as subscribers come, go and are admitted.
Real connections (LiveConnection) on fake transports, the hub in memory."""

from __future__ import annotations

import json

from imagechat.live.close_codes import CloseCode
from imagechat.live.connection import LiveConnection
from imagechat.live.frames import OP_CLOSE, OP_TEXT, parse_close
from imagechat.live.limits import LiveLimits
from tests.unit.live.hub_fakes import KEY, LIMITS, build_hub, settle
from tests.unit.live.test_hub import Transport, connected


def text_seqs(transport: Transport) -> list[int]:
    return [json.loads(payload)["seq"] for _fin, op, payload in transport.frames()
            if op == OP_TEXT and b'"seq"' in payload]


async def test_admitted_subscribers_are_written_directly_and_each_gets_every_event() -> None:
    hub, broker, log = build_hub()
    try:
        transports = [connected(hub, stuck=False) for _ in range(3)]
        await settle(lambda: all(b"101" in t.written for t in transports))
        await broker.deliver(*log.commit(3))
        plan = hub.channels[KEY].plan()
        assert plan is not None
        assert len(plan.direct) == 3 and plan.others == []  # all of them, no one by write
        assert all(text_seqs(t) == [1, 2, 3] for t in transports)
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
        # Every frame written counted once, the one that overflowed not.
        assert hub.stats["events_delivered"] == 30 + len(text_seqs(stuck)) - 1
    finally:
        await hub.stop()
