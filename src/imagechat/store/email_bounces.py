"""Addresses that refused mail permanently: no email goes to them again, until the site's
admin forgets the bounce (the dashboard's email page)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.models import EmailBounce
from imagechat.store.database import Connection
from imagechat.store.tables import email_bounces

# The dashboard lists this many, newest first.
MAX_LISTED = 200


def normalize(address: str) -> str:
    """Addresses are compared without case: mail servers treat them so in practice."""
    return address.strip().lower()


async def add(conn: Connection, tenant_id: str, address: str, *, code: int, message: str,
              now_ms: int) -> None:
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    stmt = insert(email_bounces).values(
        tenant_id=tenant_id, address=normalize(address)[:320], code=code,
        message=message[:500], created_at=now_ms)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=[email_bounces.c.tenant_id, email_bounces.c.address],
        set_={"code": stmt.excluded.code, "message": stmt.excluded.message,
              "created_at": stmt.excluded.created_at}))


async def bounced(conn: Connection, tenant_id: str, address: str) -> bool:
    row = (await conn.execute(select(email_bounces.c.code).where(
        email_bounces.c.tenant_id == tenant_id,
        email_bounces.c.address == normalize(address)))).first()
    return row is not None


async def listed(conn: Connection, tenant_id: str) -> list[EmailBounce]:
    c = email_bounces.c
    rows = await conn.execute(select(email_bounces).where(c.tenant_id == tenant_id)
                              .order_by(c.created_at.desc(), c.address).limit(MAX_LISTED))
    return [EmailBounce(tenant_id=r.tenant_id, address=r.address, code=r.code,
                        message=r.message, created_at=r.created_at) for r in rows]


async def forget(conn: Connection, tenant_id: str, address: str) -> bool:
    result = await conn.execute(delete(email_bounces).where(
        email_bounces.c.tenant_id == tenant_id,
        email_bounces.c.address == normalize(address)))
    return bool(result.rowcount)
