"""The live path's bare histogram: Prometheus bucket semantics (upper bounds inclusive)."""

from __future__ import annotations

import math

import pytest

from imagechat.live.histogram import BROKER_LAG_BOUNDS_SECS, Histogram


def test_observations_land_in_the_first_bucket_whose_bound_they_do_not_exceed() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.0, 0.1, 0.5, 1.0, 7.0):
        histogram.observe(value)
    assert histogram.counts == [2, 2, 1]
    assert histogram.cumulative() == [(0.1, 2), (1.0, 4), (math.inf, 5)]
    assert histogram.count == 5
    assert histogram.sum == pytest.approx(8.6)


def test_an_empty_histogram_counts_zero_everywhere() -> None:
    histogram = Histogram(BROKER_LAG_BOUNDS_SECS)
    assert [n for _, n in histogram.cumulative()] == [0] * (len(BROKER_LAG_BOUNDS_SECS) + 1)
    assert histogram.sum == 0


@pytest.mark.parametrize("bounds", [(1.0, 0.5), (0.1, 0.1)])
def test_bounds_must_increase(bounds: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="increasing"):
        Histogram(bounds)
