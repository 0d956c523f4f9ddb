"""Recording events inside a write transaction, publishing them after it commits.

A use case calls `record()` for each change. When the use case is done, still inside its
transaction, the events of each channel get that channel's next `seq`s (one statement
reserves them all, under the channel's row lock) and are appended to the event log (one
statement), so they commit or roll back with the change itself. Only after commit does
`publish()` hand the exact same bytes to the sink: no subscriber ever sees an event whose
change was rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from imagechat.domain.clock import Clock
from imagechat.domain.events import EventType
from imagechat.domain.ids import new_id
from imagechat.domain.models import Delivery, Notification, StoredEvent
from imagechat.store import channels, event_log, outbox, webhooks
from imagechat.store.database import Connection, Database


@dataclass(frozen=True, slots=True)
class Notice:
    """An event for one visitor's connections only (a notification), never logged."""

    tenant_id: str
    user_key: str
    data: bytes


class EventSink(Protocol):
    async def publish(self, events: Sequence[StoredEvent]) -> None: ...

    async def notify(self, notices: Sequence[Notice]) -> None: ...


class NullSink:
    """For tools that write without anyone listening (CLI import, tests)."""

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        return None

    async def notify(self, notices: Sequence[Notice]) -> None:
        return None


class NotificationHook(Protocol):
    """Told, inside the transaction, of the notifications a write made (email digests
    plan their deliveries there)."""

    async def __call__(self, rec: EventRecorder, made: Sequence[Notification]) -> None: ...


class EventRecorder:
    def __init__(self, conn: Connection, now_ms: int, *,
                 on_notifications: NotificationHook | None = None) -> None:
        self.conn = conn
        self.now_ms = now_ms
        self.on_notifications = on_notifications
        self._pending: list[tuple[str, str, EventType, str | None, dict[str, Any]]] = []
        # Filled by `flush`, in seq order per channel: what to publish after commit.
        self.events: list[StoredEvent] = []
        # Events for single visitors, handed over after commit too.
        self.notices: list[Notice] = []
        # Deliveries to make outside (webhooks, emails): written with the change.
        self.deliveries: list[Delivery] = []
        self._hooks: list[tuple[str, str, dict[str, Any]]] = []

    def record(
        self, tenant_id: str, url_id: str, event_type: EventType, broadcast_id: str | None,
        body: dict[str, Any],
    ) -> None:
        self._pending.append((tenant_id, url_id, event_type, broadcast_id, body))

    def notice(self, tenant_id: str, user_key: str, body: dict[str, Any]) -> None:
        """An event for one visitor's live connections, sent once the change commits."""
        payload = {"type": body.get("type"), "timestamp": self.now_ms, **body}
        self.notices.append(Notice(tenant_id, user_key, orjson.dumps(payload)))

    def deliver(self, tenant_id: str, kind: str, target: str, event_type: str,
                payload: dict[str, Any], *, at_ms: int | None = None) -> Delivery:
        """A delivery to make once this transaction commits (and only then): the outbox
        row is written with the change itself."""
        delivery = Delivery(
            id=new_id(), tenant_id=tenant_id, kind=kind, target=target, event_type=event_type,
            payload=orjson.dumps(payload).decode(), status=outbox.PENDING, attempts=0,
            next_attempt_at=self.now_ms if at_ms is None else at_ms, last_attempt_at=None,
            last_status_code=None, last_error="", last_response="", created_at=self.now_ms,
            finished_at=None)
        self.deliveries.append(delivery)
        return delivery

    def webhook(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> None:
        """An event for the tenant's webhook endpoints that want this type (resolved when
        the transaction ends, so one query serves every event of the write)."""
        self._hooks.append((tenant_id, event_type, data))

    async def flush(self) -> None:
        """Number and log the recorded events (the last step of the transaction)."""
        await self._flush_hooks()
        if self.deliveries:
            await outbox.add(self.conn, self.deliveries)
        by_channel: dict[tuple[str, str], list[tuple[EventType, str | None, dict[str, Any]]]] = {}
        for tenant_id, url_id, event_type, broadcast_id, body in self._pending:
            by_channel.setdefault((tenant_id, url_id), []).append(
                (event_type, broadcast_id, body))
        self._pending = []
        for (tenant_id, url_id), recorded in by_channel.items():
            position = await channels.next_seq(self.conn, tenant_id, url_id, self.now_ms,
                                               count=len(recorded))
            first = position.seq - len(recorded) + 1
            made = [self._event(tenant_id, url_id, first + n, *item)
                    for n, item in enumerate(recorded)]
            await event_log.append(self.conn, *made)
            self.events.extend(made)

    async def _flush_hooks(self) -> None:
        if not self._hooks:
            return
        wanted: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for tenant_id in {t for t, _, _ in self._hooks}:
            wanted[tenant_id] = await webhooks.listening(self.conn, tenant_id)
        for tenant_id, event_type, data in self._hooks:
            for endpoint_id, events in wanted[tenant_id]:
                if events and event_type not in events:
                    continue
                self.deliver(tenant_id, "webhook", endpoint_id, event_type, {
                    "type": event_type, "tenantId": tenant_id, "createdAt": self.now_ms,
                    "data": data})
        self._hooks = []

    def _event(
        self, tenant_id: str, url_id: str, seq: int, event_type: EventType,
        broadcast_id: str | None, body: dict[str, Any],
    ) -> StoredEvent:
        # Key order puts what every client reads first; the body follows.
        payload: dict[str, Any] = {
            "type": event_type.value,
            "timestamp": self.now_ms,
            "broadcastId": broadcast_id,
            "seq": seq,
            # The channel: comments, votes and conversations name their thread, not the
            # image; a page showing several images needs to know which one it is for.
            "urlId": url_id,
            **body,
        }
        return StoredEvent(
            id=new_id(), tenant_id=tenant_id, url_id=url_id, seq=seq,
            type=event_type.value, broadcast_id=broadcast_id, created_at=self.now_ms,
            data=orjson.dumps(payload).decode(),
        )


class Writer:
    """Opens write transactions that record events and publish them after commit."""

    def __init__(self, db: Database, clock: Clock, sink: EventSink) -> None:
        self.db = db
        self.clock = clock
        self.sink = sink
        # Told after a commit that made deliveries (the local outbox worker, to look now).
        self.on_deliveries: Callable[[], None] | None = None
        # Told of the notifications each write makes, in its transaction (email).
        self.on_notifications: NotificationHook | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[EventRecorder]:
        async with self.db.write() as conn:
            recorder = EventRecorder(conn, self.clock.now_ms(),
                                     on_notifications=self.on_notifications)
            yield recorder
            await recorder.flush()
        if recorder.events:
            await self.sink.publish(recorder.events)
        if recorder.notices:
            await self.sink.notify(recorder.notices)
        if recorder.deliveries and self.on_deliveries is not None:
            self.on_deliveries()
