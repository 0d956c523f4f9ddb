"""What Web Annotation clients gave for conversations and comments, as JSON text."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, select, update

from imagechat.store.database import Connection
from imagechat.store.tables import annotation_documents as docs


async def of_image(conn: Connection, tenant_id: str, url_id: str) -> dict[str, dict[str, Any]]:
    rows = await conn.execute(select(docs.c.id, docs.c.document).where(
        docs.c.tenant_id == tenant_id, docs.c.url_id == url_id))
    return {row.id: orjson.loads(row.document) for row in rows}


async def put(conn: Connection, tenant_id: str, url_id: str, object_id: str,
              document: dict[str, Any], now_ms: int) -> None:
    text = orjson.dumps(document).decode()
    changed = await conn.execute(update(docs).where(
        docs.c.tenant_id == tenant_id, docs.c.id == object_id).values(
        url_id=url_id, document=text, updated_at=now_ms))
    if changed.rowcount == 0:
        await conn.execute(docs.insert().values(
            tenant_id=tenant_id, id=object_id, url_id=url_id, document=text,
            updated_at=now_ms))


async def forget(conn: Connection, tenant_id: str, object_ids: list[str]) -> None:
    if object_ids:
        await conn.execute(delete(docs).where(docs.c.tenant_id == tenant_id,
                                              docs.c.id.in_(object_ids)))
