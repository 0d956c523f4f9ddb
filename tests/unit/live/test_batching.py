"""Batching: a quiet connection gets events at once; a busy one gets arrays, paced."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from imagechat.live.batching import FLUSH_INTERVAL_SECS, BatchScheduler, SharedBatch
from imagechat.live.frames import OP_TEXT
from imagechat.live.subscriber import Batch
from tests.unit.live.client_frames import server_frames

# Timer callbacks may run a little late on a busy machine; never early (see _tick).
SLACK = 0.002


class FakeConn:
    def __init__(self, accept: bool = True) -> None:
        self.frames: list[bytes] = []
        self.times: list[float] = []
        self.accept = accept
        self.written = asyncio.Event()

    def write(self, frame: bytes) -> bool:
        self.frames.append(frame)
        self.times.append(time.monotonic())
        self.written.set()
        return self.accept

    def payloads(self) -> list[Any]:
        out = []
        for frame in self.frames:
            [(fin, opcode, payload)] = server_frames(frame)
            assert fin and opcode == OP_TEXT
            out.append(json.loads(payload))
        return out

    def events(self) -> list[Any]:
        events: list[Any] = []
        for value in self.payloads():
            events += value if isinstance(value, list) else [value]
        return events


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, int]] = []

    def __call__(self, conn: Any, size: int) -> None:
        self.calls.append((conn, size))


class SharedRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, tenant_id: str, frames: int, size: int) -> None:
        self.calls.append((tenant_id, frames, size))


def ev(i: int) -> bytes:
    return json.dumps({"type": "new-vote", "seq": i}).encode()


async def wait_for_events(conn: FakeConn, count: int) -> None:
    async with asyncio.timeout(1.0):
        while len(conn.events()) < count:
            conn.written.clear()
            await conn.written.wait()


async def test_single_event_on_a_quiet_connection_is_written_at_once_alone() -> None:
    sent = Recorder()
    scheduler = BatchScheduler(sent, SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    scheduler.add(batch, ev(1))
    # Synchronously, before the loop runs anything: no timer, no delay.
    assert conn.payloads() == [{"type": "new-vote", "seq": 1}]
    assert sent.calls == [(conn, len(conn.frames[0]))]
    assert batch.pending == []
    scheduler.stop()


async def test_burst_of_100_is_coalesced_into_arrays_in_order() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    for i in range(100):
        scheduler.add(batch, ev(i))
    assert len(conn.frames) == 1  # the first left at once; the rest wait for the interval
    await wait_for_events(conn, 100)
    elapsed = conn.times[-1] - conn.times[0]
    assert len(conn.frames) <= math.ceil(elapsed / FLUSH_INTERVAL_SECS) + 1
    payloads = conn.payloads()
    assert isinstance(payloads[0], dict)
    assert all(isinstance(value, list) for value in payloads[1:])
    assert [e["seq"] for e in conn.events()] == list(range(100))
    scheduler.stop()


async def test_steady_stream_is_paced_to_one_frame_per_interval() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < FLUSH_INTERVAL_SECS * 4:
        scheduler.add(batch, ev(i))
        i += 1
        await asyncio.sleep(FLUSH_INTERVAL_SECS / 8)
    await wait_for_events(conn, i)
    assert [e["seq"] for e in conn.events()] == list(range(i))
    elapsed = conn.times[-1] - conn.times[0]
    assert 2 <= len(conn.frames) <= math.ceil(elapsed / FLUSH_INTERVAL_SECS) + 1
    assert len(conn.frames) < i  # coalesced, not one frame per event
    gaps = [b - a for a, b in zip(conn.times, conn.times[1:], strict=False)]
    assert min(gaps) >= FLUSH_INTERVAL_SECS - SLACK
    scheduler.stop()


async def test_a_connection_quiet_again_gets_the_next_event_at_once() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    scheduler.add(batch, ev(1))
    scheduler.add(batch, ev(2))
    await wait_for_events(conn, 2)
    await asyncio.sleep(FLUSH_INTERVAL_SECS + SLACK)
    scheduler.add(batch, ev(3))
    assert len(conn.frames) == 3
    assert conn.payloads()[-1] == {"type": "new-vote", "seq": 3}
    scheduler.stop()


async def test_a_single_queued_event_leaves_as_an_object() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    scheduler.add(batch, ev(1))
    scheduler.add(batch, ev(2))
    await wait_for_events(conn, 2)
    assert conn.payloads() == [{"type": "new-vote", "seq": 1}, {"type": "new-vote", "seq": 2}]
    scheduler.stop()


async def test_discard_stops_delivery_for_that_batch_only() -> None:
    sent = Recorder()
    scheduler = BatchScheduler(sent, SharedRecorder())
    gone, kept = FakeConn(), FakeConn()
    gone_batch, kept_batch = Batch(gone), Batch(kept)  # type: ignore[arg-type]
    for i in range(3):
        scheduler.add(gone_batch, ev(i))
        scheduler.add(kept_batch, ev(i))
    scheduler.discard(gone_batch)
    await wait_for_events(kept, 3)
    await asyncio.sleep(FLUSH_INTERVAL_SECS + SLACK)
    assert len(gone.frames) == 1  # only the immediate one, before discard
    assert [e["seq"] for e in kept.events()] == [0, 1, 2]
    assert [conn for conn, _ in sent.calls].count(gone) == 1
    scheduler.stop()


async def test_many_connections_are_flushed_by_one_timer() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    conns = [FakeConn() for _ in range(20)]
    batches = [Batch(c) for c in conns]  # type: ignore[arg-type]
    for i in range(5):
        for batch in batches:
            scheduler.add(batch, ev(i))
    for conn in conns:
        await wait_for_events(conn, 5)
        assert [e["seq"] for e in conn.events()] == [0, 1, 2, 3, 4]
        assert len(conn.frames) == 2
    scheduler.stop()


async def test_on_sent_counts_only_frames_the_connection_accepted() -> None:
    sent = Recorder()
    scheduler = BatchScheduler(sent, SharedRecorder())
    refusing = FakeConn(accept=False)
    batch = Batch(refusing)  # type: ignore[arg-type]
    scheduler.add(batch, ev(1))
    scheduler.add(batch, ev(2))
    await wait_for_events(refusing, 2)
    assert len(refusing.frames) == 2
    assert sent.calls == []
    scheduler.stop()


async def test_on_sent_reports_the_size_of_each_array_frame() -> None:
    sent = Recorder()
    scheduler = BatchScheduler(sent, SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    for i in range(10):
        scheduler.add(batch, ev(i))
    await wait_for_events(conn, 10)
    assert sent.calls == [(conn, len(frame)) for frame in conn.frames]
    scheduler.stop()


async def test_stop_cancels_pending_delivery() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    conn = FakeConn()
    batch = Batch(conn)  # type: ignore[arg-type]
    scheduler.add(batch, ev(1))
    scheduler.add(batch, ev(2))
    scheduler.stop()
    await asyncio.sleep(FLUSH_INTERVAL_SECS * 2)
    assert len(conn.frames) == 1


def test_batch_frame_joins_pending_payloads_into_one_array() -> None:
    batch = Batch(FakeConn())  # type: ignore[arg-type]
    batch.pending = [b'{"a":1}', b'{"b":2}', b"[3]"]
    [(fin, opcode, payload)] = server_frames(batch.frame())
    assert (fin, opcode) == (True, OP_TEXT)
    assert payload == b'[{"a":1},{"b":2},[3]]'
    batch.pending = [b'{"a":1}']
    assert server_frames(batch.frame()) == [(True, OP_TEXT, b'{"a":1}')]


# --- one queue for the live batching connections of an image ------------------------------


async def test_shared_quiet_event_goes_to_every_member_at_once_as_one_frame() -> None:
    counted = SharedRecorder()
    scheduler = BatchScheduler(Recorder(), counted)
    conns = [FakeConn() for _ in range(3)]
    shared = SharedBatch("t1")
    scheduler.add_shared(shared, conns, ev(1))  # type: ignore[arg-type]
    for conn in conns:
        assert conn.payloads() == [{"type": "new-vote", "seq": 1}]
    assert conns[0].frames[0] is conns[1].frames[0]  # one frame, the same bytes for all
    assert counted.calls == [("t1", 3, 3 * len(conns[0].frames[0]))]
    assert shared.payloads == [] and shared.members == {}
    scheduler.stop()


async def test_shared_burst_reaches_every_member_in_order_in_the_same_frames() -> None:
    counted = SharedRecorder()
    scheduler = BatchScheduler(Recorder(), counted)
    conns = [FakeConn() for _ in range(5)]
    shared = SharedBatch("t1")
    for i in range(50):
        scheduler.add_shared(shared, conns, ev(i))  # type: ignore[arg-type]
    for conn in conns:
        await wait_for_events(conn, 50)
        assert [e["seq"] for e in conn.events()] == list(range(50))
        assert conn.frames == conns[0].frames
    elapsed = conns[0].times[-1] - conns[0].times[0]
    assert len(conns[0].frames) <= math.ceil(elapsed / FLUSH_INTERVAL_SECS) + 1
    assert sum(frames for _, frames, _ in counted.calls) == 5 * len(conns[0].frames)
    assert sum(size for _, _, size in counted.calls) == 5 * sum(map(len, conns[0].frames))
    scheduler.stop()


async def test_a_connection_joining_the_queue_gets_events_from_its_first_one() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    early, late = FakeConn(), FakeConn()
    shared = SharedBatch("t1")
    scheduler.add_shared(shared, [early], ev(0))  # type: ignore[list-item]
    scheduler.add_shared(shared, [early], ev(1))  # type: ignore[list-item]
    scheduler.add_shared(shared, [early, late], ev(2))  # type: ignore[list-item]
    scheduler.add_shared(shared, [early, late], ev(3))  # type: ignore[list-item]
    await wait_for_events(late, 2)
    await wait_for_events(early, 4)
    assert [e["seq"] for e in early.events()] == [0, 1, 2, 3]
    assert [e["seq"] for e in late.events()] == [2, 3]
    scheduler.stop()


async def test_a_forgotten_member_gets_nothing_more_the_others_go_on() -> None:
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    gone, kept = FakeConn(), FakeConn()
    shared = SharedBatch("t1")
    for i in range(3):
        scheduler.add_shared(shared, [gone, kept], ev(i))  # type: ignore[list-item]
    shared.forget(gone)  # type: ignore[arg-type]
    scheduler.add_shared(shared, [kept], ev(3))  # type: ignore[list-item]
    await wait_for_events(kept, 4)
    await asyncio.sleep(FLUSH_INTERVAL_SECS + SLACK)
    assert [e["seq"] for e in gone.events()] == [0]  # only the immediate one
    assert [e["seq"] for e in kept.events()] == [0, 1, 2, 3]
    scheduler.stop()


async def test_a_write_that_closes_a_connection_during_a_flush_breaks_nothing() -> None:
    """A slow consumer closed by its write discards its own batch while the flush runs."""
    scheduler = BatchScheduler(Recorder(), SharedRecorder())
    batches: list[Batch] = []

    class Closing(FakeConn):
        def write(self, frame: bytes) -> bool:
            super().write(frame)
            for batch in batches:
                scheduler.discard(batch)
            return False

    conns = [Closing() for _ in range(3)]
    batches.extend(Batch(c) for c in conns)  # type: ignore[arg-type]
    for i in range(3):
        for batch in batches:
            scheduler.add(batch, ev(i))
    await asyncio.sleep(FLUSH_INTERVAL_SECS * 2 + SLACK)
    # The flush that was under way still reached everyone it had started for.
    for conn in conns:
        assert [e["seq"] for e in conn.events()] == [0, 1, 2]
    scheduler.stop()
