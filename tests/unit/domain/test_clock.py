"""Time: ISO strings shaped like JavaScript's Date, and a clock tests can move."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from imagechat.domain.clock import FixedClock, SystemClock, iso_from_ms

ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.mark.parametrize(("ms", "iso"), [
    (0, "1970-01-01T00:00:00.000Z"),
    (1, "1970-01-01T00:00:00.001Z"),
    (999, "1970-01-01T00:00:00.999Z"),
    (1000, "1970-01-01T00:00:01.000Z"),
    # new Date(1700000000000).toISOString() in JavaScript
    (1_700_000_000_000, "2023-11-14T22:13:20.000Z"),
    (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
    (951_782_400_000, "2000-02-29T00:00:00.000Z"),
    (-1, "1969-12-31T23:59:59.999Z"),
])
def test_iso_from_ms(ms: int, iso: str) -> None:
    assert iso_from_ms(ms) == iso


@pytest.mark.parametrize("ms", [1_700_000_000_001, 1_700_000_000_999, 1_234_567_890_123,
                                4_102_444_799_999])
def test_iso_from_ms_round_trips(ms: int) -> None:
    iso = iso_from_ms(ms)
    assert ISO_RE.match(iso)
    back = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert back == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def test_fixed_clock_stands_still_until_advanced() -> None:
    clock = FixedClock(1_000)
    assert clock.now_ms() == 1_000
    assert clock.now_ms() == 1_000
    clock.advance(250)
    assert clock.now_ms() == 1_250
    clock.advance(0)
    assert clock.now_ms() == 1_250
    clock.advance(-50)
    assert clock.now_ms() == 1_200


def test_system_clock_is_wall_time_in_ms() -> None:
    before = int(time.time() * 1000)
    now = SystemClock().now_ms()
    after = int(time.time() * 1000)
    assert isinstance(now, int)
    assert before - 1 <= now <= after + 1
