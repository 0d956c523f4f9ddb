"""Channel: each seq reaches subscribers once, in order, whatever order the broker uses."""

from __future__ import annotations

import random

import pytest

from imagechat.live.channel import Channel


def p(seq: int) -> bytes:
    return f'{{"type":"new-vote","seq":{seq}}}'.encode()


def seqs(delivered: list[tuple[int, bytes]]) -> list[int]:
    for seq, payload in delivered:
        assert payload == p(seq)  # each seq travels with its own payload
    return [seq for seq, _ in delivered]


def ready(last: int = 0) -> Channel:
    channel = Channel("t:img", "t", "img")
    assert channel.start(last, "ep1") == []
    return channel


def test_a_new_channel_is_not_ready() -> None:
    channel = Channel("topic", "tenant", "url")
    assert (channel.key, channel.tenant_id, channel.url_id) == ("topic", "tenant", "url")
    assert channel.ready is False
    assert channel.gap is None
    assert channel.subscribers == {}


def test_events_before_start_are_held_then_only_newer_ones_delivered() -> None:
    channel = Channel("t:img", "t", "img")
    for seq in (3, 5, 4, 6, 2):
        assert channel.offer(seq, p(seq)) == []  # position unknown: nothing leaves yet
    assert channel.gap is None  # not ready: no gap can be judged
    assert seqs(channel.start(4, "ep1")) == [5, 6]
    assert channel.ready is True
    assert channel.epoch == "ep1"
    assert channel.last_seq == 6
    assert channel.held == {}  # the old ones (2, 3, 4) are gone, not kept forever


def test_start_keeps_events_beyond_a_gap() -> None:
    channel = Channel("t:img", "t", "img")
    channel.offer(7, p(7))
    channel.offer(5, p(5))
    assert seqs(channel.start(4, "e")) == [5]
    assert channel.gap == (6, 6)
    assert seqs(channel.offer(6, p(6))) == [6, 7]
    assert channel.gap is None


def test_start_with_nothing_held_delivers_nothing() -> None:
    channel = Channel("t:img", "t", "img")
    assert channel.start(10, "e") == []
    assert channel.last_seq == 10


def test_in_order_offers_are_delivered_at_once() -> None:
    channel = ready(0)
    for seq in range(1, 6):
        assert seqs(channel.offer(seq, p(seq))) == [seq]
        assert channel.last_seq == seq
        assert channel.gap is None
    assert channel.held == {}


def test_out_of_order_events_wait_for_the_gap_to_fill() -> None:
    channel = ready(2)
    assert channel.offer(5, p(5)) == []
    assert channel.gap == (3, 4)
    assert channel.offer(4, p(4)) == []
    assert channel.gap == (3, 3)
    assert seqs(channel.offer(3, p(3))) == [3, 4, 5]
    assert channel.gap is None
    assert channel.last_seq == 5
    assert channel.held == {}


def test_gap_reports_the_first_missing_range_only() -> None:
    channel = ready(2)
    channel.offer(9, p(9))
    channel.offer(5, p(5))
    assert channel.gap == (3, 4)  # up to the lowest held event
    channel.offer(3, p(3))
    channel.offer(4, p(4))
    assert channel.last_seq == 5
    assert channel.gap == (6, 8)


@pytest.mark.parametrize("dup", [0, 1, 2])
def test_duplicates_of_delivered_events_are_dropped(dup: int) -> None:
    channel = ready(2)
    assert channel.offer(dup, p(dup)) == []
    assert channel.held == {}
    assert channel.gap is None
    assert seqs(channel.offer(3, p(3))) == [3]
    assert channel.offer(3, b"a redelivery") == []
    assert channel.last_seq == 3


def test_a_duplicate_of_a_held_event_is_delivered_once() -> None:
    channel = ready(0)
    assert channel.offer(2, p(2)) == []
    assert channel.offer(2, p(2)) == []
    assert seqs(channel.offer(1, p(1))) == [1, 2]
    assert channel.offer(2, p(2)) == []


def test_a_log_catch_up_overlapping_live_events_delivers_each_once() -> None:
    # The hub fills a gap from the event log while the broker delivers the same events.
    channel = ready(10)
    assert channel.offer(13, p(13)) == []
    log_rows = [11, 12, 13, 14]
    out: list[int] = []
    for seq in log_rows:
        out += seqs(channel.offer(seq, p(seq)))
    out += seqs(channel.offer(14, p(14)))  # live copy arriving late
    out += seqs(channel.offer(15, p(15)))
    assert out == [11, 12, 13, 14, 15]


def _shuffled_with_duplicates(rng: random.Random, n: int) -> list[int]:
    stream = list(range(1, n + 1))
    stream += rng.choices(stream, k=rng.randrange(0, n + 1))
    rng.shuffle(stream)
    return stream


@pytest.mark.parametrize("seed", range(200))
def test_any_permutation_with_duplicates_is_delivered_exactly_once_in_order(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(1, 60)
    channel = ready(0)
    delivered: list[int] = []
    for seq in _shuffled_with_duplicates(rng, n):
        delivered += seqs(channel.offer(seq, p(seq)))
        assert delivered == list(range(1, len(delivered) + 1))  # never out of order
        gap = channel.gap
        if gap is not None:
            assert gap[0] == channel.last_seq + 1 <= gap[1]
    assert delivered == list(range(1, n + 1))
    assert channel.held == {}
    assert channel.gap is None


@pytest.mark.parametrize("seed", range(100))
def test_events_split_around_start_are_delivered_exactly_once(seed: int) -> None:
    # Some events arrive while the channel's position is being read; start() at any
    # position then the rest of the stream: the subscriber sees exactly position+1..N.
    rng = random.Random(1000 + seed)
    n = rng.randrange(1, 50)
    position = rng.randrange(0, n + 1)
    stream = _shuffled_with_duplicates(rng, n)
    cut = rng.randrange(0, len(stream) + 1)
    channel = Channel("t:img", "t", "img")
    for seq in stream[:cut]:
        assert channel.offer(seq, p(seq)) == []
    delivered = seqs(channel.start(position, "e"))
    for seq in stream[cut:]:
        delivered += seqs(channel.offer(seq, p(seq)))
    assert delivered == list(range(position + 1, n + 1))
    assert channel.held == {}
