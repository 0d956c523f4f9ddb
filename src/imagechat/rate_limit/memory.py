"""Rate limits in this node's memory (no Redis): the default for a single node."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from imagechat.rate_limit.base import ALLOWED, MICROS, Check, Decision, gcra

# Keys the memory backend keeps at most: 150-300 bytes each (measured; it depends on the
# key's length), so at most about 15 MiB. Past it, idle keys go first, then the least
# recently charged (which makes those limits forget).
MAX_MEMORY_KEYS = 50_000


class MemoryLimiter:
    """One node's limits in a dict; `clock` returns seconds (monotonic, injectable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_MEMORY_KEYS) -> None:
        self.clock = clock
        self.max_keys = max_keys
        # key -> TAT in µs; dict order is least recently charged first.
        self._tats: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(self, checks: Sequence[Check]) -> Decision:
        return self.hit_now(checks)

    def hit_now(self, checks: Sequence[Check]) -> Decision:
        now = int(self.clock() * MICROS)
        updates: list[tuple[str, int]] = []
        wait = 0
        for key, rate in checks:
            new_tat, key_wait = gcra(self._tats.get(key, 0), now, rate)
            wait = max(wait, key_wait)
            updates.append((key, new_tat))
        if wait:
            return Decision(False, wait / MICROS)
        for key, new_tat in updates:
            if self._tats.pop(key, None) is None and len(self._tats) >= self.max_keys:
                self._make_room(now)
            self._tats[key] = new_tat
        return ALLOWED

    def _make_room(self, now_us: int) -> None:
        # Idle keys first: forgetting them changes nothing. Then, if most keys are live
        # (many visitors at once), the least recently charged, down to three quarters so
        # this full pass runs at most once per max_keys/4 new keys.
        self._tats = {k: t for k, t in self._tats.items() if t > now_us}
        excess = len(self._tats) - self.max_keys * 3 // 4
        if excess > 0:
            for key in list(self._tats)[:excess]:
                del self._tats[key]

    async def close(self) -> None:
        self._tats.clear()
