"""Shared fixtures: an app over SQLite or the real PostgreSQL, and an HTTP client for it.

Tests that take `database_url` run twice, once per database. PostgreSQL tests use a fresh
database created for this run and dropped afterwards. Where PostgreSQL is unreachable the
PostgreSQL variants are skipped locally but fail under CI (CI=true), so a missing service can
never hide behind a skip there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from imagechat.app import create_app
from imagechat.domain.clock import FixedClock, SystemClock
from imagechat.settings import Settings
from imagechat.store.tables import metadata

PG_ADMIN_URL = os.environ.get(
    "IMAGECHAT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _pg_url_for(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    name = f"imagechat_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is down or unreachable
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL is required under CI: {exc}") from exc
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    try:
        yield _pg_url_for(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'imagechat.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'imagechat.db'}"


async def _empty_postgres(url: str) -> None:
    """Tests share one PostgreSQL database; each starts from empty tables."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            exists = (await conn.execute(text("SELECT to_regclass('tenants')"))).scalar()
            if exists:
                names = ", ".join(t.name for t in metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {names} CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """A clock that starts at the real time and moves only when a test says so."""
    return FixedClock(SystemClock().now_ms())


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[FastAPI]:
    if database_url.startswith("postgresql"):
        await _empty_postgres(database_url)
    application = create_app(Settings(database_url=database_url), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
