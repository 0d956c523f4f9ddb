"""Usage ranges, buckets and CSV for the dashboard (no database)."""

from __future__ import annotations

import csv
import io
from dataclasses import fields
from datetime import UTC, date, datetime

import pytest

from imagechat.domain.errors import BadInput
from imagechat.domain.models import UsageBucket
from imagechat.services.dashboard import (
    DAY_MS,
    HOUR_MS,
    MAX_DAILY_DAYS,
    MAX_HOURLY_DAYS,
    METRICS,
    UsagePoint,
    UsageRange,
    image_address,
    parse_range,
    usage_csv,
    usage_points,
    usage_totals,
)

NOW = int(datetime(2024, 5, 10, 15, 30, tzinfo=UTC).timestamp() * 1000)
MAY_9 = int(datetime(2024, 5, 9, tzinfo=UTC).timestamp() * 1000)


def test_default_range_is_the_last_seven_days_by_day() -> None:
    span = parse_range(None, None, None, NOW)
    assert (span.first_day, span.last_day, span.bucket) == (date(2024, 5, 4), date(2024, 5, 10),
                                                            "day")
    assert span.end_ms - span.start_ms == 7 * DAY_MS
    assert span.start_ms == int(datetime(2024, 5, 4, tzinfo=UTC).timestamp() * 1000)


def test_range_from_dates_and_hourly_buckets() -> None:
    span = parse_range("2024-05-01", "2024-05-02", "hour", NOW)
    assert span.bucket_ms == HOUR_MS
    assert len(usage_points([], span)) == 48


@pytest.mark.parametrize(("raw_from", "raw_to", "bucket", "code"), [
    ("yesterday", None, None, "invalid-date"),
    ("2024-05-03", "2024-05-01", None, "invalid-date"),
    (None, None, "week", "invalid-bucket"),
    ("2024-01-01", "2024-05-01", "hour", "range-too-long"),
    ("2020-01-01", "2024-05-01", "day", "range-too-long"),
])
def test_bad_ranges_say_what_is_wrong(
    raw_from: str | None, raw_to: str | None, bucket: str | None, code: str
) -> None:
    with pytest.raises(BadInput) as caught:
        parse_range(raw_from, raw_to, bucket, NOW)
    assert caught.value.code == code
    assert caught.value.reason.endswith(".")


def test_longest_ranges_are_accepted() -> None:
    hourly = parse_range("2024-04-10", "2024-05-10", "hour", NOW)
    assert (hourly.last_day - hourly.first_day).days + 1 == MAX_HOURLY_DAYS
    daily = parse_range(None, "2024-05-10", "day", NOW)
    assert daily.bucket == "day"
    first = date.fromordinal(date(2024, 5, 10).toordinal() - MAX_DAILY_DAYS + 1)
    assert parse_range(first.isoformat(), "2024-05-10", "day", NOW).first_day == first


def test_hours_add_up_into_days_and_peaks_take_the_largest() -> None:
    span = UsageRange(date(2024, 5, 9), date(2024, 5, 10), "day")
    stored = [
        UsageBucket(hour=MAY_9 + 2 * HOUR_MS, pubsub_message_count=10, pubsub_bandwidth=1000,
                    conversation_create_count=1, comment_create_count=2, peak_viewers=4),
        UsageBucket(hour=MAY_9 + 20 * HOUR_MS, pubsub_message_count=5, pubsub_bandwidth=500,
                    conversation_create_count=2, comment_create_count=3, peak_viewers=3),
        UsageBucket(hour=MAY_9 + 30 * HOUR_MS, comment_create_count=7, peak_viewers=1),
        # Outside the range: ignored.
        UsageBucket(hour=MAY_9 - HOUR_MS, comment_create_count=100, peak_viewers=100),
        UsageBucket(hour=MAY_9 + 2 * DAY_MS, comment_create_count=100),
    ]
    day1, day2 = usage_points(stored, span)
    assert day1 == UsagePoint(start_ms=MAY_9, pubsub_message_count=15, pubsub_bandwidth=1500,
                              conversation_create_count=3, comment_create_count=5,
                              peak_viewers=4)
    assert day2 == UsagePoint(start_ms=MAY_9 + DAY_MS, comment_create_count=7, peak_viewers=1)
    totals = usage_totals([day1, day2])
    assert totals["comment_create_count"] == 12
    assert totals["peak_viewers"] == 4


def test_hourly_points_are_zero_filled_in_order() -> None:
    span = UsageRange(date(2024, 5, 9), date(2024, 5, 9), "hour")
    stored = [UsageBucket(hour=MAY_9 + 5 * HOUR_MS, conversation_create_count=2)]
    found = usage_points(stored, span)
    assert [p.start_ms for p in found] == [MAY_9 + h * HOUR_MS for h in range(24)]
    assert [p.conversation_create_count for p in found] == [0] * 5 + [2] + [0] * 18


def test_csv_has_one_row_per_bucket_with_every_counter() -> None:
    points = [UsagePoint(start_ms=MAY_9, pubsub_message_count=1, pubsub_bandwidth=2,
                         conversation_create_count=3, comment_create_count=4, peak_viewers=5),
              UsagePoint(start_ms=MAY_9 + HOUR_MS)]
    text = usage_csv(points, "hour")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["hourStart", "pubSubMessageCount", "pubSubBandwidth",
                       "conversationCreateCount", "commentCreateCount", "peakViewers"]
    assert rows[1] == ["2024-05-09T00:00Z", "1", "2", "3", "4", "5"]
    assert rows[2] == ["2024-05-09T01:00Z", "0", "0", "0", "0", "0"]
    assert len(rows) == 3
    assert text.endswith("\r\n")
    assert usage_csv([], "day").startswith("dayStart,")


def test_every_usage_counter_is_a_metric() -> None:
    """A new counter on UsagePoint must reach the charts and the CSV."""
    assert {m.field for m in METRICS} == {f.name for f in fields(UsagePoint)} - {"start_ms"}
    assert {m.field for m in METRICS} <= {f.name for f in fields(UsageBucket)}


@pytest.mark.parametrize(("src", "page", "expected"), [
    ("https://cdn.example/a.png", None, "https://cdn.example/a.png"),
    ("/img/a.png", "https://shop.example/p/1", "https://shop.example/img/a.png"),
    ("a.png", "https://shop.example/p/", "https://shop.example/p/a.png"),
    ("/img/a.png", None, None),
    ("javascript:alert(1)", "https://shop.example/", None),
    ("data:image/png;base64,xx", None, None),
    (None, "https://shop.example/", None),
])
def test_image_address_is_absolute_http_or_nothing(
    src: str | None, page: str | None, expected: str | None
) -> None:
    assert image_address(src, page) == expected
