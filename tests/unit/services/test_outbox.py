"""The delivery worker's rules, over a temporary SQLite file with a fake courier: backoff
with jitter, giving up (and keeping) after the give-up time, trimming, and a slow attempt
that holds one slot only."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imagechat.domain.clock import FixedClock
from imagechat.domain.ids import new_id
from imagechat.domain.models import Delivery
from imagechat.services.outbox import DeliveryWorker, OutboxPolicy, Outcome
from imagechat.services.tenants import TenantService
from imagechat.store import outbox
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade

START_MS = 1_800_000_000_000
HOUR_MS = 3_600_000


class Courier:
    """Answers from a script: delivered, failed, or (for ids in `hold`) not before told."""

    def __init__(self, delivered: bool = True, permanent: bool = False) -> None:
        self.delivered = delivered
        self.permanent = permanent
        self.hold: set[str] = set()
        self.release = asyncio.Event()
        self.attempted: list[str] = []

    async def attempt(self, delivery: Delivery) -> Outcome:
        self.attempted.append(delivery.id)
        if delivery.id in self.hold:
            await self.release.wait()
        if self.delivered:
            return Outcome(True, status_code=200)
        return Outcome(False, status_code=500, error="Answered 500.", permanent=self.permanent)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    database = Database(url)
    await upgrade(database.writer, url)
    await TenantService(database, FixedClock(START_MS)).create("T", tenant_id="t")
    yield database
    await database.dispose()


async def _add(db: Database, count: int, at_ms: int = START_MS) -> list[str]:
    made = [Delivery(id=new_id(), tenant_id="t", kind="fake", target="x", event_type="e",
                     payload="{}", status=outbox.PENDING, attempts=0,
                     next_attempt_at=at_ms + n, last_attempt_at=None, last_status_code=None,
                     last_error="", last_response="", created_at=at_ms, finished_at=None)
            for n in range(count)]
    async with db.write() as conn:
        await outbox.add(conn, made)
    return [d.id for d in made]


async def _get(db: Database, delivery_id: str) -> Delivery:
    async with db.read() as conn:
        found = await outbox.get(conn, "t", delivery_id)
    assert found is not None
    return found


def test_backoff_doubles_with_jitter_up_to_the_longest_wait() -> None:
    policy = OutboxPolicy(retry_first_secs=10, retry_max_secs=3600)
    rng = random.Random(1)
    for attempts, base in ((1, 10), (2, 20), (3, 40), (6, 320)):
        waits = [policy.backoff_secs(attempts, rng) for _ in range(200)]
        assert 0.75 * base <= min(waits) and max(waits) <= 1.25 * base
        assert max(waits) - min(waits) > 0.3 * base  # jitter spreads retries out
    assert all(policy.backoff_secs(30, rng) <= 3600 for _ in range(50))


async def test_a_failing_delivery_is_retried_then_given_up_and_kept(db: Database) -> None:
    clock = FixedClock(START_MS)
    courier = Courier(delivered=False)
    worker = DeliveryWorker(db, clock, OutboxPolicy(give_up_hours=1), {"fake": courier},
                            rng=random.Random(1))
    [delivery_id] = await _add(db, 1)
    assert await worker.run_once() == 1
    first = await _get(db, delivery_id)
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert START_MS + 7_500 <= first.next_attempt_at <= START_MS + 12_500
    assert await worker.run_once() == 0  # not due yet
    clock.advance(HOUR_MS)
    assert await worker.run_once() == 1
    given_up = await _get(db, delivery_id)
    assert (given_up.status, given_up.attempts, given_up.last_error) == (
        "failed", 2, "Answered 500.")
    assert given_up.finished_at == START_MS + HOUR_MS
    assert await worker.run_once() == 0


async def test_a_permanent_failure_is_given_up_at_once(db: Database) -> None:
    worker = DeliveryWorker(db, FixedClock(START_MS), OutboxPolicy(),
                            {"fake": Courier(delivered=False, permanent=True)})
    [delivery_id] = await _add(db, 1)
    await worker.run_once()
    assert (await _get(db, delivery_id)).status == "failed"


async def test_finished_deliveries_are_trimmed_after_keep_days(db: Database) -> None:
    clock = FixedClock(START_MS)
    worker = DeliveryWorker(db, clock, OutboxPolicy(keep_days=2), {"fake": Courier()})
    done = await _add(db, 2)
    clock.advance(10)  # both due
    assert await worker.run_once() == 2
    waiting = await _add(db, 1, at_ms=START_MS + 100 * 24 * HOUR_MS)
    clock.advance(2 * 24 * HOUR_MS - 1)
    assert await worker.trim() == 0
    clock.advance(2)
    assert await worker.trim() == 2
    async with db.read() as conn:
        assert await outbox.pending_count(conn, "t") == 1
    assert (await _get(db, waiting[0])).status == "pending"
    async with db.read() as conn:
        assert [await outbox.get(conn, "t", d) for d in done] == [None, None]


async def test_a_slow_attempt_holds_one_slot_not_the_others(db: Database) -> None:
    courier = Courier()
    worker = DeliveryWorker(db, FixedClock(START_MS + 10), OutboxPolicy(batch=3, poll_secs=0.05),
                            {"fake": courier})
    slow, *others = await _add(db, 8)
    courier.hold.add(slow)
    worker.start()
    try:
        async def delivered() -> bool:
            return all([(await _get(db, d)).status == "delivered" for d in others])

        for _ in range(200):
            if await delivered():
                break
            await asyncio.sleep(0.02)
        assert await delivered()
        assert (await _get(db, slow)).status == "pending"  # still under way
        courier.release.set()
        for _ in range(200):
            if (await _get(db, slow)).status == "delivered":
                break
            await asyncio.sleep(0.02)
        assert (await _get(db, slow)).status == "delivered"
    finally:
        await worker.stop()
    assert sorted(courier.attempted) == sorted([slow, *others])
