"""The GCRA limiter in memory, on a clock that moves only when the test says so."""

from __future__ import annotations

import pytest

from imagechat.rate_limit.base import Decision, Rate, gcra
from tests.unit.rate_limit.clock import limiter

THREE_PER_MINUTE = Rate(3)  # one every 20 s, up to 3 at once


def test_a_full_burst_passes_then_the_next_waits_one_interval() -> None:
    memory, _clock = limiter()
    assert [memory.hit_now([("k", THREE_PER_MINUTE)]).allowed for _ in range(3)] == [True] * 3
    refused = memory.hit_now([("k", THREE_PER_MINUTE)])
    assert not refused.allowed
    assert refused.retry_after_secs == pytest.approx(20.0)


def test_tokens_come_back_one_per_interval() -> None:
    memory, clock = limiter()
    for _ in range(3):
        memory.hit_now([("k", THREE_PER_MINUTE)])
    clock.now += 15
    assert memory.hit_now([("k", THREE_PER_MINUTE)]).retry_after_secs == pytest.approx(5.0)
    clock.now += 5
    assert memory.hit_now([("k", THREE_PER_MINUTE)]).allowed
    assert not memory.hit_now([("k", THREE_PER_MINUTE)]).allowed  # only one came back
    clock.now += 60  # a quiet minute refills the whole burst, never more
    assert [memory.hit_now([("k", THREE_PER_MINUTE)]).allowed for _ in range(4)] == [
        True, True, True, False]


def test_refusals_are_not_charged() -> None:
    memory, clock = limiter()
    for _ in range(3):
        memory.hit_now([("k", THREE_PER_MINUTE)])
    for _ in range(50):  # hammering while limited does not push the wait further out
        assert memory.hit_now([("k", THREE_PER_MINUTE)]).retry_after_secs == pytest.approx(20.0)
    clock.now += 20
    assert memory.hit_now([("k", THREE_PER_MINUTE)]).allowed


def test_keys_are_independent() -> None:
    memory, _clock = limiter()
    for _ in range(3):
        memory.hit_now([("a", THREE_PER_MINUTE)])
    assert not memory.hit_now([("a", THREE_PER_MINUTE)]).allowed
    assert memory.hit_now([("b", THREE_PER_MINUTE)]).allowed


def test_a_check_over_several_keys_charges_all_or_none() -> None:
    memory, _clock = limiter()
    tenant, visitor = ("tenant", Rate(3)), Rate(1)
    assert memory.hit_now([tenant, ("ann", visitor)]).allowed
    # Ann is over her own limit: the refusal must not use up the tenant's budget.
    for _ in range(5):
        assert not memory.hit_now([tenant, ("ann", visitor)]).allowed
    assert memory.hit_now([tenant, ("bob", visitor)]).allowed
    assert memory.hit_now([tenant, ("cy", visitor)]).allowed
    refused = memory.hit_now([tenant, ("dee", visitor)])  # the tenant is now over
    assert not refused.allowed
    assert refused.retry_after_secs == pytest.approx(20.0)
    assert memory.hit_now([("dee", visitor)]).allowed  # and dee was not charged


def test_the_longest_wait_of_the_keys_is_reported() -> None:
    memory, _clock = limiter()
    memory.hit_now([("slow", Rate(1)), ("fast", Rate(60))])
    refused = memory.hit_now([("slow", Rate(1)), ("fast", Rate(60))])
    assert refused.retry_after_secs == pytest.approx(60.0)


@pytest.mark.parametrize(("wait", "header"), [(0.0, 1), (0.001, 1), (0.999, 1), (1.0, 1),
                                              (1.001, 2), (19.99, 20), (20.0, 20)])
def test_retry_after_header_is_whole_seconds_rounded_up(wait: float, header: int) -> None:
    assert Decision(False, wait).retry_after_header == header


def test_gcra_in_whole_microseconds() -> None:
    rate = Rate(7)  # 60 s / 7: an interval that is not a whole number of milliseconds
    tat, now = 0, 10_000_000
    for _ in range(7):
        tat, wait = gcra(tat, now, rate)
        assert wait == 0
    assert gcra(tat, now, rate)[1] == rate.interval_us
    assert gcra(tat, now + rate.interval_us, rate)[1] == 0


def test_idle_keys_are_forgotten_first_when_the_table_is_full() -> None:
    memory, clock = limiter(max_keys=4)
    for _ in range(3):
        memory.hit_now([("busy", THREE_PER_MINUTE)])
    for name in ("idle-1", "idle-2", "idle-3"):
        memory.hit_now([(name, Rate(60))])  # back to nothing after 1 s
    clock.now += 2
    memory.hit_now([("new", THREE_PER_MINUTE)])
    assert len(memory) == 2  # busy and new; the idle keys held nothing
    assert not memory.hit_now([("busy", THREE_PER_MINUTE)]).allowed


def test_the_table_never_outgrows_its_bound() -> None:
    memory, clock = limiter(max_keys=8)
    for i in range(1000):
        clock.now += 0.001
        assert memory.hit_now([(f"visitor-{i}", THREE_PER_MINUTE)]).allowed
        assert len(memory) <= 8
    # The most recently charged keys are the ones kept.
    assert not memory.hit_now([("visitor-999", Rate(1))]).allowed
