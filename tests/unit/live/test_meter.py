"""Peak viewers in the usage meter: per tenant and hour, written only when they grow."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from imagechat.live import meter as meter_module
from imagechat.live.meter import UsageMeter
from imagechat.services.usage import LiveUsage

HOUR = 3_600_000


class FakeDb:
    """Records what a flush writes (as the usage service would store it); can be told to
    fail."""

    def __init__(self) -> None:
        self.peaks: list[tuple[str, int, int]] = []
        self.fail = False

    async def add_live(self, rows: Iterable[LiveUsage]) -> None:
        if self.fail:
            raise RuntimeError("database down")
        self.peaks += [(r.tenant_id, r.hour_ms, r.peak_viewers) for r in rows if r.peak_viewers]


@pytest.fixture
def db() -> FakeDb:
    return FakeDb()


@pytest.fixture
def hour(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The meter's current hour, as a test moves it."""
    now = [100 * HOUR]
    monkeypatch.setattr(meter_module, "_now_hour", lambda: now[0])
    return now


async def test_peak_is_the_most_connections_at_once(db: FakeDb, hour: list[int]) -> None:
    meter = UsageMeter(db)  # type: ignore[arg-type]
    for _ in range(3):
        meter.viewer_joined("acme")
    meter.viewer_left("acme")
    meter.viewer_joined("acme")  # back to 3, not 4
    meter.viewer_joined("globex")
    assert meter.viewers("acme") == 3
    await meter.flush()
    assert sorted(db.peaks) == [("acme", hour[0], 3), ("globex", hour[0], 1)]


async def test_an_unchanged_peak_is_not_written_again(db: FakeDb, hour: list[int]) -> None:
    meter = UsageMeter(db)  # type: ignore[arg-type]
    meter.viewer_joined("acme")
    meter.viewer_joined("acme")
    await meter.flush()
    meter.viewer_left("acme")
    meter.viewer_joined("acme")
    await meter.flush()
    assert db.peaks == [("acme", hour[0], 2)]
    meter.viewer_joined("acme")
    await meter.flush()
    assert db.peaks[-1] == ("acme", hour[0], 3)


async def test_a_new_hour_starts_with_the_viewers_still_there(
    db: FakeDb, hour: list[int]
) -> None:
    meter = UsageMeter(db)  # type: ignore[arg-type]
    for _ in range(4):
        meter.viewer_joined("acme")
    await meter.flush()
    first = hour[0]
    hour[0] += HOUR
    # Nobody joined in the new hour; one left. The hour still had four at its start.
    meter.viewer_left("acme")
    await meter.flush()
    hour[0] += HOUR
    await meter.flush()  # a quiet hour with three connected
    assert db.peaks == [("acme", first, 4), ("acme", first + HOUR, 4),
                        ("acme", first + 2 * HOUR, 3)]


async def test_peaks_survive_a_failed_flush(db: FakeDb, hour: list[int]) -> None:
    meter = UsageMeter(db)  # type: ignore[arg-type]
    meter.viewer_joined("acme")
    meter.viewer_joined("acme")
    meter.viewer_left("acme")
    meter.viewer_left("acme")
    db.fail = True
    await meter.flush()
    db.fail = False
    await meter.flush()
    assert db.peaks == [("acme", hour[0], 2)]
    assert meter.viewers("acme") == 0
