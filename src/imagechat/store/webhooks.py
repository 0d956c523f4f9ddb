"""Webhook endpoint rows."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import bindparam, delete, insert, select, update

from imagechat.domain.models import WebhookEndpoint
from imagechat.store.database import Connection
from imagechat.store.tables import webhook_endpoints

# A site may register this many endpoints (each event is one delivery per endpoint).
MAX_ENDPOINTS_PER_TENANT = 20


def _to_endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id, tenant_id=row.tenant_id, url=row.url,
        events=tuple(orjson.loads(row.events or "[]")), secret=row.secret,
        created_at=row.created_at, failing_since=row.failing_since,
        disabled_at=row.disabled_at, disabled_reason=row.disabled_reason,
    )


async def add(conn: Connection, endpoint: WebhookEndpoint) -> None:
    await conn.execute(insert(webhook_endpoints).values(
        id=endpoint.id, tenant_id=endpoint.tenant_id, url=endpoint.url,
        events=orjson.dumps(list(endpoint.events)).decode(), secret=endpoint.secret,
        created_at=endpoint.created_at, failing_since=None, disabled_at=None,
        disabled_reason=""))


async def listening(conn: Connection, tenant_id: str) -> list[tuple[str, tuple[str, ...]]]:
    """(id, event types; empty: all) of the tenant's endpoints that are not disabled."""
    rows = await conn.execute(_LISTENING, {"tenant_id": tenant_id})
    return [(r.id, tuple(orjson.loads(r.events or "[]"))) for r in rows]


# Run at the end of every write: built once (see store/conversations.py, _BY_WINDOW_URL_ID).
_LISTENING = (select(webhook_endpoints.c.id, webhook_endpoints.c.events)
              .where(webhook_endpoints.c.tenant_id == bindparam("tenant_id"),
                     webhook_endpoints.c.disabled_at.is_(None))
              .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id))


async def of_tenant(conn: Connection, tenant_id: str) -> list[WebhookEndpoint]:
    c = webhook_endpoints.c
    rows = await conn.execute(select(webhook_endpoints).where(c.tenant_id == tenant_id)
                              .order_by(c.created_at, c.id))
    return [_to_endpoint(r) for r in rows]


async def get(conn: Connection, endpoint_id: str) -> WebhookEndpoint | None:
    row = (await conn.execute(select(webhook_endpoints).where(
        webhook_endpoints.c.id == endpoint_id))).first()
    return _to_endpoint(row) if row else None


async def remove(conn: Connection, tenant_id: str, endpoint_id: str) -> bool:
    result = await conn.execute(delete(webhook_endpoints).where(
        webhook_endpoints.c.tenant_id == tenant_id, webhook_endpoints.c.id == endpoint_id))
    return bool(result.rowcount)


async def set_health(conn: Connection, endpoint_id: str, **values: Any) -> None:
    """Record how an endpoint is doing: `failing_since`, `disabled_at`, `disabled_reason`."""
    await conn.execute(update(webhook_endpoints).where(
        webhook_endpoints.c.id == endpoint_id).values(**values))


async def succeeded(conn: Connection, endpoint_id: str) -> None:
    """A delivery went through: the endpoint is healthy (and enabled, if it was not)."""
    c = webhook_endpoints.c
    await conn.execute(update(webhook_endpoints).where(
        c.id == endpoint_id, (c.failing_since.is_not(None)) | (c.disabled_at.is_not(None)))
        .values(failing_since=None, disabled_at=None, disabled_reason=""))


async def failed(conn: Connection, endpoint_id: str, now_ms: int) -> int:
    """A delivery failed: the start of the endpoint's failing streak (this one, if it is
    the first failure since the last success)."""
    c = webhook_endpoints.c
    await conn.execute(update(webhook_endpoints).where(
        c.id == endpoint_id, c.failing_since.is_(None)).values(failing_since=now_ms))
    since = (await conn.execute(select(c.failing_since).where(c.id == endpoint_id))).scalar()
    return int(since if since is not None else now_ms)


async def disable(conn: Connection, endpoint_id: str, now_ms: int, reason: str) -> bool:
    """Disable an endpoint; False if it was disabled already (by another node)."""
    c = webhook_endpoints.c
    result = await conn.execute(update(webhook_endpoints).where(
        c.id == endpoint_id, c.disabled_at.is_(None)).values(
        disabled_at=now_ms, disabled_reason=reason[:500]))
    return bool(result.rowcount)
