"""Reading the event log: the reference's time window, our `seq`-based resume, and what a
node's hub needs to follow a channel (its position, and the events after a seq)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imagechat.domain import rules
from imagechat.domain.errors import BadInput
from imagechat.domain.models import ChannelPosition, StoredEvent, Tenant, UsageBucket
from imagechat.store import channels, event_log, usage
from imagechat.store.database import Database


@dataclass(frozen=True, slots=True)
class Replay:
    """Either every event after `since`, in order, or `resync_required` (never a gap)."""

    events: list[StoredEvent]
    position: ChannelPosition
    resync_required: bool
    has_more: bool


def parse_ms(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadInput(f"`{field}` must be a time in epoch milliseconds.", "invalid-time") from None
    if number < 0 or number > 10**14:
        raise BadInput(f"`{field}` must be a time in epoch milliseconds.", "invalid-time")
    return number


class HistoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_time(
        self, tenant: Tenant, raw_url_id: Any, start: Any, end: Any
    ) -> list[StoredEvent]:
        url_id = rules.clean_url_id(raw_url_id)
        start_ms, end_ms = parse_ms(start, "startTime"), parse_ms(end, "endTime")
        if end_ms < start_ms:
            raise BadInput("`endTime` must not be before `startTime`.", "invalid-time")
        async with self.db.read() as conn:
            return await event_log.between_times(conn, tenant.id, url_id, start_ms, end_ms)

    async def since(
        self, tenant: Tenant, raw_url_id: Any, since_seq: int, epoch: str | None
    ) -> Replay:
        url_id = rules.clean_url_id(raw_url_id)
        async with self.db.read() as conn:
            position = await channels.position(conn, tenant.id, url_id)
            if position is None:
                # Nothing was ever written here: only seq 0 of no epoch is up to date.
                empty = ChannelPosition(seq=0, epoch="")
                return Replay([], empty, resync_required=since_seq != 0, has_more=False)
            if (epoch and epoch != position.epoch) or since_seq > position.seq or since_seq < 0:
                return Replay([], position, resync_required=True, has_more=False)
            if since_seq == position.seq:
                return Replay([], position, resync_required=False, has_more=False)
            found = await event_log.since_seq(conn, tenant.id, url_id, since_seq)
        if not found or found[0].seq != since_seq + 1:
            # The events right after `since` were trimmed: a replay would have a hole.
            return Replay([], position, resync_required=True, has_more=False)
        return Replay(found, position, resync_required=False,
                      has_more=found[-1].seq < position.seq)

    async def position(self, tenant_id: str, url_id: str) -> ChannelPosition | None:
        """Where a channel stands now; None when nothing was ever written to it."""
        async with self.db.read() as conn:
            return await channels.position(conn, tenant_id, url_id)

    async def after(self, tenant_id: str, url_id: str, seq: int) -> list[StoredEvent]:
        """The logged events after `seq`, oldest first, one page of them: whatever the log
        holds. Unlike `since` this does not judge whether they cover a gap; the caller does
        (a hub catching up its channel compares them with what it has delivered)."""
        async with self.db.read() as conn:
            return await event_log.since_seq(conn, tenant_id, url_id, seq)

    async def latest_seqs(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """The current `seq` of many channels (tenant id, urlId) at once."""
        async with self.db.read() as conn:
            return await channels.latest_seqs(conn, list(keys))

    async def trim(self, *, max_events: int, max_age_ms: int, now_ms: int) -> int:
        """Apply the history bounds: per channel at most `max_events`, none older than
        `max_age_ms`. A client resuming from before what is left gets resync-required."""
        removed = 0
        # A trim may delete many rows: off the loop's thread (see store.database).
        async with self.db.write_in_thread() as conn:
            removed += await event_log.trim_older_than(conn, now_ms - max_age_ms)
            for tenant_id, url_id, seq in await channels.longer_than(conn, max_events):
                removed += await event_log.trim(conn, tenant_id, url_id,
                                                keep_after_seq=seq - max_events)
        return removed

    async def usage(self, tenant: Tenant, start: Any, end: Any) -> list[UsageBucket]:
        start_ms, end_ms = parse_ms(start, "from"), parse_ms(end, "to")
        if end_ms < start_ms:
            raise BadInput("`to` must not be before `from`.", "invalid-time")
        async with self.db.read() as conn:
            return await usage.between(conn, tenant.id, start_ms, end_ms)
