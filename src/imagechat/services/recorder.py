"""Recording events inside a write transaction, publishing them after it commits.

A use case calls `record()` for each change; the event gets the channel's next `seq` and is
appended to the event log on the same connection, so it commits or rolls back with the
change itself. Only after commit does `publish()` hand the exact same bytes to the sink:
no subscriber ever sees an event whose change was rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import orjson

from imagechat.domain.clock import Clock
from imagechat.domain.events import EventType
from imagechat.domain.ids import new_id
from imagechat.domain.models import StoredEvent
from imagechat.store import channels, event_log
from imagechat.store.database import Connection, Database


class EventSink(Protocol):
    async def publish(self, events: Sequence[StoredEvent]) -> None: ...


class NullSink:
    """For tools that write without anyone listening (CLI import, tests)."""

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        return None


class EventRecorder:
    def __init__(self, conn: Connection, now_ms: int) -> None:
        self.conn = conn
        self.now_ms = now_ms
        self.events: list[StoredEvent] = []

    async def record(
        self, tenant_id: str, url_id: str, event_type: EventType, broadcast_id: str | None,
        body: dict[str, Any],
    ) -> StoredEvent:
        position = await channels.next_seq(self.conn, tenant_id, url_id, self.now_ms)
        # Key order puts what every client reads first; the body follows.
        payload: dict[str, Any] = {
            "type": event_type.value,
            "timestamp": self.now_ms,
            "broadcastId": broadcast_id,
            "seq": position.seq,
            **body,
        }
        if "chat" not in body:
            # Comment and vote events name their thread, not their image; a page showing
            # several images needs to know which one the event is for.
            payload["urlId"] = url_id
        event = StoredEvent(
            id=new_id(), tenant_id=tenant_id, url_id=url_id, seq=position.seq,
            type=event_type.value, broadcast_id=broadcast_id, created_at=self.now_ms,
            data=orjson.dumps(payload).decode(),
        )
        await event_log.append(self.conn, event)
        self.events.append(event)
        return event


class Writer:
    """Opens write transactions that record events and publish them after commit."""

    def __init__(self, db: Database, clock: Clock, sink: EventSink) -> None:
        self.db = db
        self.clock = clock
        self.sink = sink

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[EventRecorder]:
        async with self.db.write() as conn:
            recorder = EventRecorder(conn, self.clock.now_ms())
            yield recorder
        if recorder.events:
            await self.sink.publish(recorder.events)
