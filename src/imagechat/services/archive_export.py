"""`imagechat export`: the whole database, or one tenant, as an archive
(services/archive_format.py).

Everything is read in one read transaction, so the archive is one consistent moment even
while the server writes (a snapshot: REPEATABLE READ on PostgreSQL, the WAL snapshot on
SQLite), and streamed table by table through server-side cursors, so memory holds one batch
of rows however large the tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain.errors import NotFound
from imagechat.services.archive_format import FORMAT_VERSION, Header, record_line
from imagechat.store import archive
from imagechat.store.database import Database
from imagechat.store.migrate import require_current
from imagechat.store.tables import tenants

Progress = Callable[[int, int], None]


class ArchiveExport:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, out: TextIO, *, tenant_id: str | None = None, secrets: bool = False,
                  progress: Progress | None = None) -> dict[str, int]:
        """Write the archive to `out`; returns how many records of each type it holds."""
        state = await require_current(self.db.reader)
        async with self.db.reader.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            if tenant_id is not None and not await archive.exists(conn, tenants, id=tenant_id):
                raise NotFound(f"no tenant {tenant_id!r}", "tenant-not-found")
            header = await self._header(conn, tenant_id, secrets, state.head)
            out.write(header.line() + "\n")
            total = sum(header.counts.values())
            done = 0
            for kind in archive.KINDS:
                async for row in archive.stream(conn, kind, tenant_id, secrets=secrets):
                    out.write(record_line(kind, row) + "\n")
                    done += 1
                    if progress is not None and done % archive.STREAM_ROWS == 0:
                        progress(done, total)
            if progress is not None:
                progress(done, total)
        return header.counts

    async def _header(self, conn: AsyncConnection, tenant_id: str | None, secrets: bool,
                      schema: str) -> Header:
        counts = {}
        newest = 0
        for kind in archive.KINDS:
            counts[kind.name] = await archive.count(conn, kind, tenant_id)
            newest = max(newest, await archive.newest_ms(conn, kind, tenant_id))
        return Header(version=FORMAT_VERSION, schema=schema, created_at=newest,
                      tenant=tenant_id, secrets=secrets, counts=counts)
