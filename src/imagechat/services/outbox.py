"""The outbox: deliveries that leave the server (webhook POSTs, emails), never lost.

Guarantees, and where they are kept:
- A delivery is written in the same transaction as the change that causes it
  (`EventRecorder.deliver`), so it exists exactly when the change does.
- Every node runs a worker. A worker claims due deliveries (`store.outbox.claim`: on
  PostgreSQL `FOR UPDATE SKIP LOCKED`, so one delivery is attempted by one node at a time)
  and pushes each a lease into the future before trying it. It keeps up to `batch`
  attempts under way and fills a slot as soon as one frees up, so a slow receiver delays
  nobody else's deliveries. A node killed mid-delivery
  never reports, and the delivery is due again when the lease ends: another node, or the
  same one after restart, retries it. Delivery is therefore at least once; the delivery's
  `id` is stable, and receivers drop repeats by it.
- A failed attempt is retried after `retry_first_secs`, doubling up to `retry_max_secs`,
  each with jitter (so that deliveries failing together do not retry together), until
  `give_up_hours` after the delivery was made; then it is marked failed and kept.
- Finished deliveries are deleted `keep_days` after they finished. Pending ones are bounded
  by the writes that make them (rate limited) times `give_up_hours`, and a webhook endpoint
  that keeps failing is disabled, which fails its pending deliveries at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from imagechat.domain.clock import Clock
from imagechat.domain.errors import Unavailable
from imagechat.domain.models import Delivery
from imagechat.store import outbox
from imagechat.store.database import Database

if TYPE_CHECKING:
    from imagechat.settings import Settings

log = logging.getLogger("imagechat.outbox")

# How often a worker trims finished deliveries.
TRIM_EVERY_SECS = 3600.0
# Jitter: a retry waits between these fractions of its backoff.
JITTER_LOW, JITTER_HIGH = 0.75, 1.25


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    retry_first_secs: float = 10.0
    retry_max_secs: float = 3600.0
    give_up_hours: float = 24.0
    # A claimed delivery is tried again after this if its worker never reports; longer
    # than any attempt may take (webhooks answer within 10 s, SMTP within 30 s).
    lease_secs: float = 120.0
    keep_days: float = 7.0
    # Deliveries one worker tries at once, and how often it looks for due ones when not
    # woken by a local write.
    batch: int = 20
    poll_secs: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxPolicy:
        return cls(retry_first_secs=settings.outbox_retry_first_secs,
                   retry_max_secs=settings.outbox_retry_max_secs,
                   give_up_hours=settings.outbox_give_up_hours,
                   lease_secs=settings.outbox_lease_secs, keep_days=settings.outbox_keep_days)

    @property
    def lease_ms(self) -> int:
        return int(self.lease_secs * 1000)

    def backoff_secs(self, attempts: int, rng: random.Random) -> float:
        """The wait before the next try, after `attempts` tries failed."""
        base = min(self.retry_max_secs,
                   self.retry_first_secs * float(2 ** max(0, attempts - 1)))
        return float(min(self.retry_max_secs, base * rng.uniform(JITTER_LOW, JITTER_HIGH)))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to."""

    delivered: bool
    status_code: int | None = None
    error: str = ""
    # The first bytes of the answer, for the deliveries list.
    response: str = ""
    # Retrying cannot help (a refused target, a bounced address): give up now.
    permanent: bool = False


class Courier(Protocol):
    """Makes one attempt of one kind of delivery ("webhook", "email")."""

    async def attempt(self, delivery: Delivery) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class Settled:
    delivery: Delivery
    outcome: Outcome
    final_status: str | None  # "delivered", "failed", or None (will be retried)
    latency_secs: float


Observer = Callable[[Settled], Awaitable[None] | None]


class DeliveryWorker:
    def __init__(self, db: Database, clock: Clock, policy: OutboxPolicy,
                 couriers: dict[str, Courier], *, observer: Observer | None = None,
                 rng: random.Random | None = None) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.couriers = couriers
        self.observer = observer
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A local write made deliveries: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop, abandoning attempts under way: their deliveries are tried again when their
        lease ends (by another node, or this one after its restart)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        """Keep up to `batch` attempts under way. A slot that frees up is filled at once,
        so one slow endpoint (an attempt may take its whole timeout) holds one slot, not a
        round of everyone's deliveries."""
        last_trim = 0.0
        loop = asyncio.get_running_loop()
        under_way: set[asyncio.Task[Settled]] = set()
        waiting = False  # for the database: said once per outage, not once per round
        try:
            while True:
                pause = self.policy.poll_secs
                try:
                    free = self.policy.batch - len(under_way)
                    claimed = await self._claim(free) if free > 0 else []
                    for delivery in claimed:
                        under_way.add(asyncio.create_task(self._attempt(delivery)))
                    if loop.time() - last_trim > TRIM_EVERY_SECS:
                        await self.trim()
                        last_trim = loop.time()
                    if len(claimed) < free:
                        pause = await self._pause_secs()
                    waiting = False
                except Unavailable as exc:
                    # The deliveries wait for the database; none is lost.
                    if not waiting:
                        log.warning("outbox waits for the database: %s", exc.reason)
                    waiting = True
                except Exception:
                    log.warning("outbox round failed", exc_info=True)
                self._wake.clear()
                woken = asyncio.create_task(self._wake.wait())
                done, _ = await asyncio.wait({woken, *under_way}, timeout=pause,
                                             return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                for task in done - {woken}:
                    under_way.discard(task)
                    if task.exception() is not None:  # recording the outcome failed
                        log.warning("outbox attempt failed", exc_info=task.exception())
        finally:
            for task in under_way:
                task.cancel()
            await asyncio.gather(*under_way, return_exceptions=True)

    async def _claim(self, limit: int) -> list[Delivery]:
        async with self.db.write() as conn:
            return await outbox.claim(conn, self.clock.now_ms(), limit=limit,
                                      lease_ms=self.policy.lease_ms)

    async def _pause_secs(self) -> float:
        """Until the next poll, or sooner when a delivery is due before (a retry after a
        short wait, a lease running out)."""
        async with self.db.read() as conn:
            due = await outbox.next_due(conn)
        if due is None:
            return self.policy.poll_secs
        return max(0.0, min(self.policy.poll_secs, (due - self.clock.now_ms()) / 1000))

    async def run_once(self) -> int:
        """Claim due deliveries and attempt them all; returns how many were attempted."""
        claimed = await self._claim(self.policy.batch)
        if claimed:
            await asyncio.gather(*(self._attempt(d) for d in claimed))
        return len(claimed)

    async def attempt_now(self, delivery: Delivery) -> Settled | None:
        """Attempt, here and now, a delivery just written with `next_attempt_at` a lease
        ahead (so that no worker claims it first); None if it is no longer pending."""
        async with self.db.write() as conn:
            taken = await outbox.take(conn, delivery.id, self.clock.now_ms(),
                                      lease_ms=self.policy.lease_ms)
        return await self._attempt(delivery) if taken else None

    async def _attempt(self, delivery: Delivery) -> Settled:
        courier = self.couriers.get(delivery.kind)
        started = asyncio.get_running_loop().time()
        if courier is None:
            outcome = Outcome(False, error=f"no courier for {delivery.kind!r} deliveries",
                              permanent=True)
        else:
            try:
                outcome = await courier.attempt(delivery)
            except Exception as exc:  # a bug must not leave the delivery claimed for good
                log.exception("delivery %s failed unexpectedly", delivery.id)
                outcome = Outcome(False, error=f"internal error: {type(exc).__name__}")
        latency = asyncio.get_running_loop().time() - started
        settled = await self._record(delivery, outcome, latency)
        if self.observer is not None:
            result = self.observer(settled)
            if result is not None:
                await result
        return settled

    async def _record(self, delivery: Delivery, outcome: Outcome, latency: float) -> Settled:
        now = self.clock.now_ms()
        attempts = delivery.attempts + 1
        give_up_at = delivery.created_at + int(self.policy.give_up_hours * 3_600_000)
        async with self.db.write() as conn:
            if outcome.delivered:
                final: str | None = outbox.DELIVERED
            elif outcome.permanent or now >= give_up_at:
                final = outbox.FAILED
            else:
                final = None
            if final is not None:
                await outbox.finish(conn, delivery.id, status=final, now_ms=now,
                                    status_code=outcome.status_code, error=outcome.error,
                                    response=outcome.response)
            else:
                wait_ms = int(self.policy.backoff_secs(attempts, self.rng) * 1000)
                await outbox.retry_at(conn, delivery.id, at_ms=min(now + wait_ms, give_up_at),
                                      status_code=outcome.status_code, error=outcome.error,
                                      response=outcome.response)
        if final != outbox.DELIVERED:
            log.info("delivery %s (%s, %s) attempt %d: %s", delivery.id, delivery.kind,
                     delivery.event_type, attempts, outcome.error or outcome.status_code)
        return Settled(delivery, outcome, final, latency)

    async def depth(self) -> dict[str, int]:
        """Pending deliveries by kind, over all nodes (every kind this worker makes listed)."""
        async with self.db.read() as conn:
            found = await outbox.depth_by_kind(conn)
        return {**dict.fromkeys(self.couriers, 0), **found}

    async def trim(self) -> int:
        cutoff = self.clock.now_ms() - int(self.policy.keep_days * 86_400_000)
        async with self.db.write_in_thread() as conn:
            return await outbox.trim(conn, cutoff)
