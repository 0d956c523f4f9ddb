"""Outbox rows: deliveries to make, claimed by one worker at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update

from imagechat.domain.models import Delivery
from imagechat.store.database import Connection
from imagechat.store.tables import outbox

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"

_INSERT = insert(outbox)  # built once: see event_log._APPEND


def _to_delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id, tenant_id=row.tenant_id, kind=row.kind, target=row.target,
        event_type=row.event_type, payload=row.payload, status=row.status,
        attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at, last_status_code=row.last_status_code,
        last_error=row.last_error, last_response=row.last_response,
        created_at=row.created_at, finished_at=row.finished_at,
    )


async def add(conn: Connection, deliveries: list[Delivery]) -> None:
    if not deliveries:
        return
    rows = [{
        "id": d.id, "tenant_id": d.tenant_id, "kind": d.kind, "target": d.target,
        "event_type": d.event_type, "payload": d.payload, "status": d.status,
        "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
        "last_attempt_at": d.last_attempt_at, "last_status_code": d.last_status_code,
        "last_error": d.last_error, "last_response": d.last_response,
        "created_at": d.created_at, "finished_at": d.finished_at,
    } for d in deliveries]
    await conn.execute(_INSERT, rows[0] if len(rows) == 1 else rows)


async def claim(conn: Connection, now_ms: int, *, limit: int, lease_ms: int) -> list[Delivery]:
    """Take up to `limit` due deliveries for this worker: each is pushed `lease_ms` into the
    future, so no other worker takes it meanwhile, and is retried after the lease if this
    worker dies before it reports. On PostgreSQL, rows another worker is claiming right now
    are skipped (`FOR UPDATE SKIP LOCKED`) rather than waited for."""
    c = outbox.c
    rows = (await conn.execute(
        select(outbox).where(c.status == PENDING, c.next_attempt_at <= now_ms)
        .order_by(c.next_attempt_at, c.id).limit(limit)
        .with_for_update(skip_locked=True)
    )).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    await conn.execute(update(outbox).where(c.id.in_(ids)).values(
        next_attempt_at=now_ms + lease_ms, attempts=c.attempts + 1, last_attempt_at=now_ms))
    return [_to_delivery(r) for r in rows]


async def take(conn: Connection, delivery_id: str, now_ms: int, *, lease_ms: int) -> bool:
    """Claim one delivery this node has just written to attempt itself (`webhook test`):
    written with `next_attempt_at` a lease ahead, no worker claims it meanwhile. False if it
    is no longer pending."""
    c = outbox.c
    result = await conn.execute(update(outbox).where(c.id == delivery_id, c.status == PENDING)
                                .values(next_attempt_at=now_ms + lease_ms,
                                        attempts=c.attempts + 1, last_attempt_at=now_ms))
    return bool(result.rowcount)


async def finish(conn: Connection, delivery_id: str, *, status: str, now_ms: int,
                 status_code: int | None, error: str, response: str) -> None:
    await conn.execute(update(outbox).where(outbox.c.id == delivery_id).values(
        status=status, finished_at=now_ms, last_status_code=status_code,
        last_error=error[:500], last_response=response[:500]))


async def retry_at(conn: Connection, delivery_id: str, *, at_ms: int, status_code: int | None,
                   error: str, response: str) -> None:
    await conn.execute(update(outbox).where(outbox.c.id == delivery_id).values(
        next_attempt_at=at_ms, last_status_code=status_code, last_error=error[:500],
        last_response=response[:500]))


async def send_again(conn: Connection, tenant_id: str, delivery_id: str, now_ms: int) -> bool:
    """Put a delivery back in line now (a person asked), keeping its id and attempts."""
    result = await conn.execute(update(outbox).where(
        outbox.c.tenant_id == tenant_id, outbox.c.id == delivery_id).values(
        status=PENDING, next_attempt_at=now_ms, finished_at=None))
    return bool(result.rowcount)


async def get(conn: Connection, tenant_id: str, delivery_id: str) -> Delivery | None:
    row = (await conn.execute(select(outbox).where(
        outbox.c.tenant_id == tenant_id, outbox.c.id == delivery_id))).first()
    return _to_delivery(row) if row else None


async def unclaimed(conn: Connection, tenant_id: str, *, kind: str, target: str
                    ) -> Delivery | None:
    """A pending delivery to this target that no worker has claimed yet, locked until the
    caller's transaction ends: a worker's `claim` skips it meanwhile, so what the caller
    adds to it (a notification joining an email digest) is there when it is attempted. A
    claim that commits first makes it claimed (attempts > 0), and it is not returned."""
    c = outbox.c
    row = (await conn.execute(
        select(outbox).where(c.target == target, c.tenant_id == tenant_id, c.kind == kind,
                             c.status == PENDING, c.attempts == 0)
        .order_by(c.next_attempt_at).limit(1).with_for_update()
    )).first()
    return _to_delivery(row) if row else None


async def recent(conn: Connection, tenant_id: str, *, kind: str, target: str | None,
                 limit: int) -> list[Delivery]:
    c = outbox.c
    where = [c.tenant_id == tenant_id, c.kind == kind]
    if target is not None:
        where.append(c.target == target)
    rows = await conn.execute(select(outbox).where(*where)
                              .order_by(c.created_at.desc(), c.id.desc()).limit(limit))
    return [_to_delivery(r) for r in rows]


async def pending_count(conn: Connection, tenant_id: str | None = None) -> int:
    c = outbox.c
    query = select(func.count()).select_from(outbox).where(c.status == PENDING)
    if tenant_id is not None:
        query = query.where(c.tenant_id == tenant_id)
    return int((await conn.execute(query)).scalar() or 0)


async def next_due(conn: Connection) -> int | None:
    """When the soonest pending delivery is due (epoch ms), if any."""
    found = (await conn.execute(select(func.min(outbox.c.next_attempt_at))
                                .where(outbox.c.status == PENDING))).scalar()
    return int(found) if found is not None else None


async def depth_by_kind(conn: Connection) -> dict[str, int]:
    """Pending deliveries per kind, over all tenants (for the metrics)."""
    rows = await conn.execute(select(outbox.c.kind, func.count().label("n"))
                              .where(outbox.c.status == PENDING).group_by(outbox.c.kind))
    return {r.kind: int(r.n) for r in rows}


async def fail_pending_for(conn: Connection, target: str, now_ms: int, reason: str) -> int:
    """Give up every pending delivery to one target (a disabled endpoint)."""
    result = await conn.execute(update(outbox).where(
        outbox.c.target == target, outbox.c.status == PENDING).values(
        status=FAILED, finished_at=now_ms, last_error=reason[:500]))
    return int(result.rowcount or 0)


async def trim(conn: Connection, before_ms: int) -> int:
    """Forget finished deliveries that finished before `before_ms`."""
    result = await conn.execute(delete(outbox).where(
        outbox.c.status != PENDING, outbox.c.finished_at < before_ms))
    return int(result.rowcount or 0)
