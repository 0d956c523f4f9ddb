"""Fixtures for tests that need a real listening server (WebSocket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

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
