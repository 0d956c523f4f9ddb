"""Rate limits: GCRA over a backend interface of two methods, in memory or in Redis.

GCRA (the generic cell rate algorithm) is a token bucket stored as one number per key: the
theoretical arrival time (TAT). A key allowed `count` events per `period` moves its TAT
forward by `interval = period / count` on every allowed event, and an event is refused while
its TAT would end up more than `count` intervals ahead of now. So `count` events may come at
once (the burst), then one per interval; the answer to a refusal is the exact wait.

A key whose TAT is in the past holds nothing a fresh key would not: the memory backend may
forget it, and Redis keys expire at their TAT. Times are whole microseconds in both
backends, so the two compute the same answers.

Each check names several keys (a visitor's and its tenant's) and is all-or-nothing: an
event is charged to every key or to none (`LimiterBackend.hit`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Every limit counts events per minute; a limit of N also lets N come at once.
PERIOD_SECS = 60.0
MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` events per `period_secs`, up to `count` at once. 0 means no limit."""

    count: int
    period_secs: float = PERIOD_SECS

    @property
    def enabled(self) -> bool:
        return self.count > 0

    @property
    def interval_us(self) -> int:
        return max(1, round(self.period_secs * MICROS / self.count))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # How long until the refused event would be allowed; 0 when allowed.
    retry_after_secs: float = 0.0

    @property
    def retry_after_header(self) -> int:
        """Whole seconds for `Retry-After`: rounded up, never 0."""
        return max(1, math.ceil(self.retry_after_secs))


ALLOWED = Decision(True)
Check = tuple[str, Rate]


class LimiterBackend(Protocol):
    async def hit(self, checks: Sequence[Check]) -> Decision:
        """Count one event against every key, or against none if any key is over."""

    async def close(self) -> None: ...


def gcra(tat_us: int, now_us: int, rate: Rate) -> tuple[int, int]:
    """(the key's TAT after one more event, microseconds to wait first: 0 = allowed now)."""
    interval = rate.interval_us
    new_tat = max(tat_us, now_us) + interval
    return new_tat, max(0, new_tat - rate.count * interval - now_us)
