"""Tenant rows."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from imagechat.domain.models import Tenant
from imagechat.store.database import Connection
from imagechat.store.tables import metadata, tenants


def _to_tenant(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        api_secret=row.api_secret,
        allow_anonymous=bool(row.allow_anonymous),
        allow_simple_sso=bool(row.allow_simple_sso),
        allowed_origins=tuple(orjson.loads(row.allowed_origins or "[]")),
        created_at=row.created_at,
        visitors_resolve=bool(row.visitors_resolve),
        emails_enabled=bool(row.emails_enabled),
    )


async def insert_tenant(conn: Connection, tenant: Tenant) -> None:
    await conn.execute(
        insert(tenants).values(
            id=tenant.id,
            name=tenant.name,
            api_secret=tenant.api_secret,
            allow_anonymous=tenant.allow_anonymous,
            allow_simple_sso=tenant.allow_simple_sso,
            allowed_origins=orjson.dumps(list(tenant.allowed_origins)).decode(),
            created_at=tenant.created_at,
            visitors_resolve=tenant.visitors_resolve,
            emails_enabled=tenant.emails_enabled,
        )
    )


async def get_tenant(conn: Connection, tenant_id: str) -> Tenant | None:
    row = (await conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
    return _to_tenant(row) if row else None


async def list_tenants(conn: Connection) -> list[Tenant]:
    rows = await conn.execute(select(tenants).order_by(tenants.c.created_at, tenants.c.id))
    return [_to_tenant(r) for r in rows]


async def update_tenant(conn: Connection, tenant_id: str, **values: Any) -> None:
    if "allowed_origins" in values:
        values["allowed_origins"] = orjson.dumps(list(values["allowed_origins"])).decode()
    await conn.execute(update(tenants).where(tenants.c.id == tenant_id).values(**values))


async def delete_tenant(conn: Connection, tenant_id: str) -> dict[str, int]:
    """Every row of the tenant, table by table (those referring to others first), then the
    tenant itself: rows removed per table. Explicit rather than left to ON DELETE CASCADE,
    which SQLite applies only with its foreign_keys pragma on."""
    removed: dict[str, int] = {}
    for table in reversed(metadata.sorted_tables):
        if table is tenants or "tenant_id" not in table.c:
            continue
        result = await conn.execute(delete(table).where(table.c.tenant_id == tenant_id))
        removed[table.name] = result.rowcount
    result = await conn.execute(delete(tenants).where(tenants.c.id == tenant_id))
    removed[tenants.name] = result.rowcount
    return removed
