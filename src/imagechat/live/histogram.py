"""A bare histogram for measurements taken on the live path and read when scraped.

`observe()` is a bisect over a dozen bounds and two additions: no lock, no allocation
beyond the float it is given. Everything runs on the event loop thread, so the counts are
consistent when the metrics endpoint (on the same loop) reads them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Seconds from an event's commit to its arrival from the broker: a healthy node sits in
# the first buckets; the upper ones show a broker or event loop falling behind.
BROKER_LAG_BOUNDS_SECS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                          5.0, 10.0)


class Histogram:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError("Histogram bounds must be increasing.")
        self.bounds = tuple(bounds)
        # counts[i]: observations in (bounds[i-1], bounds[i]]; the last: above every bound.
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at or under it), ending with (inf, count)."""
        out: list[tuple[float, int]] = []
        total = 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out
