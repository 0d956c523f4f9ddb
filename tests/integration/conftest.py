"""Fixtures for tests that need a real listening server (WebSocket).

A test module that sets `BOTH_LIVE_PATHS = True` runs each of its tests that use `live`
(or ask for `live_path`) on both ways of serving the live endpoint (`LIVE_PATHS`): the
fast path on SQLite and PostgreSQL, the ASGI route on SQLite (the database plays no part
in what differs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.app import create_app
from imagechat.domain.clock import FixedClock
from imagechat.settings import Settings
from tests.conftest import _empty_postgres
from tests.integration.cluster import RedisServer
from tests.live_server import LIVE_PATHS, serve


@dataclass
class Live:
    app: FastAPI
    address: str
    http: httpx.AsyncClient


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "live_path" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_LIVE_PATHS",
                                                         False):
        metafunc.parametrize("live_path", LIVE_PATHS, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ASGI route runs on SQLite only."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params is not None else {}
        asgi_on_postgres = params.get("live_path") == "asgi" and \
            params.get("database_url") == "postgres"
        (dropped if asgi_on_postgres else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def live_path(request: pytest.FixtureRequest) -> str:
    """How the live endpoint is served: "fast" unless the module runs both."""
    return str(getattr(request, "param", "fast"))


@pytest.fixture
def live_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
async def live(live_settings: Settings, clock: FixedClock, live_path: str
               ) -> AsyncIterator[Live]:
    if live_settings.database_url.startswith("postgresql"):
        await _empty_postgres(live_settings.database_url)
    app = create_app(live_settings, clock=clock, live_fast_path=live_path == "fast")
    async with serve(app, live_settings, live_path) as address, httpx.AsyncClient(
        base_url=f"http://{address}"
    ) as http:
        yield Live(app=app, address=address, http=http)


# Webhook tests: the outbox retries within a second, the server may reach 127.0.0.1. Short
# enough that a test takes a second or two, long enough for two loaded cores.
FAST_OUTBOX = {"outbox_retry_first_secs": 0.1, "outbox_retry_max_secs": 0.3,
               "webhook_timeout_secs": 1.0, "outbound_allow_private": True}

AppFactory = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def start_app(tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Start an app over SQLite on the real clock with FAST_OUTBOX and these overrides."""
    started: list[Any] = []

    async def start(**overrides: Any) -> FastAPI:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hooks.db'}",
                            demo_tenant=False, **{**FAST_OUTBOX, **overrides})
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        started.append(lifespan)
        return app

    yield start
    for lifespan in started:
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis server of the test's own (nodes share live events through it), stopped after."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
async def shared_database(pg_database: str) -> AsyncIterator[str]:
    """The run's PostgreSQL database, emptied: the one store several node processes share."""
    await _empty_postgres(pg_database)
    yield pg_database
