"""Writing the live usage a node has counted: frames, bytes and peak viewers per hour."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imagechat.store import usage
from imagechat.store.database import Database


def hour_of(ms: int) -> int:
    """The start (epoch ms) of the hour that holds `ms`: usage is kept per tenant and hour."""
    return usage.hour_of(ms)


@dataclass(frozen=True, slots=True)
class LiveUsage:
    """What one node sent a tenant during one hour, and its most viewers at once."""

    tenant_id: str
    hour_ms: int
    frames: int
    size: int  # bytes
    peak_viewers: int


class UsageService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_live(self, rows: Iterable[LiveUsage]) -> None:
        """Add frames and bytes to each hour's counters and raise its peak, in one
        transaction: all rows are written, or none (the caller keeps them to retry)."""
        async with self.db.write() as conn:
            for row in rows:
                await usage.add(conn, row.tenant_id, row.hour_ms,
                                pubsub_message_count=row.frames, pubsub_bandwidth=row.size,
                                peak_viewers=row.peak_viewers)
