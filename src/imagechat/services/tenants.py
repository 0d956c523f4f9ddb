"""Tenants: created by the operator (CLI), looked up on every request."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from imagechat.domain.clock import Clock
from imagechat.domain.errors import BadInput, Conflict, NotFound
from imagechat.domain.ids import new_id, new_secret
from imagechat.domain.models import Tenant
from imagechat.store import tenants as tenant_rows
from imagechat.store.database import Database

_TENANT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def check_origin(origin: str) -> str:
    origin = origin.strip().rstrip("/").lower()
    if origin != "*" and not _ORIGIN_RE.match(origin):
        raise BadInput(f"{origin!r} is not an origin like https://example.com", "invalid-origin")
    return origin


# Every request and handshake looks its tenant up; for this long a node reuses what it read.
# A change made on another node (a rotated secret) is seen at most this much later.
TENANT_CACHE_SECS = 5.0
# Bound on cached tenants; past it the cache starts over (bounded memory).
MAX_CACHED_TENANTS = 10_000


class TenantService:
    def __init__(self, db: Database, clock: Clock, *, refused: Iterable[str] = ()) -> None:
        self.db = db
        self.clock = clock
        # Looked up as if they did not exist, whatever the database holds.
        self.refused = frozenset(refused)
        self._cache: dict[str, tuple[float, Tenant]] = {}
        self._reading: dict[str, asyncio.Future[Tenant]] = {}

    async def create(
        self, name: str, *, tenant_id: str | None = None, origins: Sequence[str] = (),
        allow_anonymous: bool = True, allow_simple_sso: bool = False,
        api_secret: str | None = None,
    ) -> Tenant:
        tenant_id = tenant_id or new_id()
        if not _TENANT_ID_RE.fullmatch(tenant_id):
            raise BadInput("A tenant id has 1-64 letters, digits, _ or -.", "invalid-tenant-id")
        if not name.strip():
            raise BadInput("A tenant needs a name.", "missing-field")
        tenant = Tenant(
            id=tenant_id, name=name.strip()[:200], api_secret=api_secret or new_secret(),
            allow_anonymous=allow_anonymous, allow_simple_sso=allow_simple_sso,
            allowed_origins=tuple(check_origin(o) for o in origins),
            created_at=self.clock.now_ms(),
        )
        async with self.db.write() as conn:
            if await tenant_rows.get_tenant(conn, tenant_id) is not None:
                raise Conflict(f"A tenant with id {tenant_id!r} exists already.", "tenant-exists")
            await tenant_rows.insert_tenant(conn, tenant)
        return tenant

    async def ensure(
        self, tenant_id: str, name: str, *, allow_anonymous: bool = True
    ) -> Tenant:
        """Create the tenant unless it exists (used for the demo tenant at start)."""
        async with self.db.read() as conn:
            existing = await tenant_rows.get_tenant(conn, tenant_id)
        if existing is not None:
            return existing
        try:
            return await self.create(name, tenant_id=tenant_id, allow_anonymous=allow_anonymous)
        except Conflict:
            # Another node created it between our read and our write.
            return await self.get(tenant_id)

    async def get(self, tenant_id: str) -> Tenant:
        if tenant_id in self.refused:
            raise NotFound(f"No site with tenant id {tenant_id!r}.", "tenant-not-found")
        cached = self._cache.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        # One read per tenant at a time: 10,000 viewers connecting at once must not queue
        # 10,000 reads for the same row (they would exhaust the connection pool).
        reading = self._reading.get(tenant_id)
        if reading is None:
            reading = self._reading[tenant_id] = asyncio.ensure_future(self._read(tenant_id))
            reading.add_done_callback(lambda done: self._read_done(tenant_id, done))
        return await asyncio.shield(reading)

    def _read_done(self, tenant_id: str, done: asyncio.Future[Tenant]) -> None:
        if self._reading.get(tenant_id) is done:
            del self._reading[tenant_id]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone meanwhile

    async def _read(self, tenant_id: str) -> Tenant:
        now = time.monotonic()
        async with self.db.read() as conn:
            tenant = await tenant_rows.get_tenant(conn, tenant_id)
        if tenant is None:
            raise NotFound(f"No site with tenant id {tenant_id!r}.", "tenant-not-found")
        if len(self._cache) > MAX_CACHED_TENANTS:
            self._cache.clear()
        self._cache[tenant_id] = (now + TENANT_CACHE_SECS, tenant)
        return tenant

    async def list(self) -> list[Tenant]:
        async with self.db.read() as conn:
            return await tenant_rows.list_tenants(conn)

    async def rotate_secret(self, tenant_id: str) -> Tenant:
        tenant = await self.get(tenant_id)
        rotated = replace(tenant, api_secret=new_secret())
        async with self.db.write() as conn:
            await tenant_rows.update_tenant(conn, tenant_id, api_secret=rotated.api_secret)
        self._cache.pop(tenant_id, None)
        return rotated

    async def set_origins(self, tenant_id: str, origins: Sequence[str]) -> Tenant:
        tenant = await self.get(tenant_id)
        checked = tuple(check_origin(o) for o in origins)
        async with self.db.write() as conn:
            await tenant_rows.update_tenant(conn, tenant_id, allowed_origins=checked)
        self._cache.pop(tenant_id, None)
        return replace(tenant, allowed_origins=checked)

    async def delete(self, tenant_id: str) -> dict[str, int]:
        """Remove the tenant and everything of it, in one transaction: rows per table."""
        await self.get(tenant_id)  # NotFound for an unknown tenant
        async with self.db.write() as conn:
            removed = await tenant_rows.delete_tenant(conn, tenant_id)
        self._cache.pop(tenant_id, None)
        return removed

    async def update(
        self, tenant_id: str, *, name: str | None = None, allow_anonymous: bool | None = None,
        allow_simple_sso: bool | None = None, visitors_resolve: bool | None = None,
        emails_enabled: bool | None = None,
    ) -> Tenant:
        """Change a tenant's name or rules; None leaves a setting as it is."""
        tenant = await self.get(tenant_id)
        changes: dict[str, object] = {}
        if name is not None:
            if not name.strip():
                raise BadInput("A tenant needs a name.", "missing-field")
            changes["name"] = name.strip()[:200]
        for field, value in (("allow_anonymous", allow_anonymous),
                             ("allow_simple_sso", allow_simple_sso),
                             ("visitors_resolve", visitors_resolve),
                             ("emails_enabled", emails_enabled)):
            if value is not None:
                changes[field] = value
        if not changes:
            return tenant
        async with self.db.write() as conn:
            await tenant_rows.update_tenant(conn, tenant_id, **changes)
        self._cache.pop(tenant_id, None)
        return await self.get(tenant_id)
