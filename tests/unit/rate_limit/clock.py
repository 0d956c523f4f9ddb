"""A memory limiter on a clock that moves only when the test says so."""

from __future__ import annotations

from imagechat.rate_limit.memory import MemoryLimiter


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def limiter(max_keys: int = 1000) -> tuple[MemoryLimiter, FakeClock]:
    clock = FakeClock()
    return MemoryLimiter(clock, max_keys=max_keys), clock
