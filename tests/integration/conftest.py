"""Fixtures for tests that need a real listening server (WebSocket)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
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
from tests.live_server import serve


@dataclass
class Live:
    app: FastAPI
    address: str
    http: httpx.AsyncClient


@pytest.fixture
def live_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
async def live(live_settings: Settings, clock: FixedClock) -> AsyncIterator[Live]:
    if live_settings.database_url.startswith("postgresql"):
        await _empty_postgres(live_settings.database_url)
    app = create_app(live_settings, clock=clock)
    async with serve(app, live_settings) as address, httpx.AsyncClient(
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
