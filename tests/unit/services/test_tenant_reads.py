"""Tenant look-ups under a connection storm: concurrent misses share one database read,
and a read that fails fails every waiter alike (nothing is cached)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from imagechat.domain.clock import FixedClock
from imagechat.domain.errors import NotFound
from imagechat.services import tenants as tenants_module
from imagechat.services.tenants import TenantService
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[TenantService]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tenants.db'}"
    database = Database(url)
    await upgrade(database.writer, url)
    service = TenantService(database, FixedClock(0))
    await service.create("Blog", tenant_id="blog")
    yield service
    await database.dispose()


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = tenants_module.tenant_rows.get_tenant

    async def counted(conn: Any, tenant_id: str) -> Any:
        reads.append(tenant_id)
        await asyncio.sleep(0.01)  # the read takes a while: the others arrive meanwhile
        return await original(conn, tenant_id)

    monkeypatch.setattr(tenants_module.tenant_rows, "get_tenant", counted)
    return reads


async def test_concurrent_lookups_of_one_tenant_share_one_read(
    service: TenantService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service._cache.clear()
    reads = count_reads(monkeypatch)
    found = await asyncio.gather(*(service.get("blog") for _ in range(500)))
    assert {t.id for t in found} == {"blog"}
    assert reads == ["blog"]
    assert await service.get("blog") == found[0]  # cached now: no second read
    assert reads == ["blog"]


async def test_an_unknown_tenant_fails_every_waiter_and_is_not_cached(
    service: TenantService, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_reads(monkeypatch)
    results = await asyncio.gather(*(service.get("nobody") for _ in range(20)),
                                   return_exceptions=True)
    assert all(isinstance(r, NotFound) for r in results)
    assert reads == ["nobody"]
    with pytest.raises(NotFound):
        await service.get("nobody")
    assert reads == ["nobody", "nobody"]  # read again: a tenant may be created meanwhile
