"""An in-process server (uvicorn + the live protocol) and a small WebSocket test client.

The live endpoint is served two ways (`LIVE_PATHS`): "fast", uvicorn with our own
WebSocket protocol (`server_options`, as `imagechat serve` runs), and "asgi", plain uvicorn
with its own WebSocket implementation and the app's ASGI route (`live/asgi.py`), set up as
the README's "Under another ASGI server" says."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from imagechat.app import server_options
from imagechat.settings import Settings
from tests.server_process import free_port

RECV_TIMEOUT_SECS = 5.0
LIVE_PATHS = ("fast", "asgi")


def asgi_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's own WebSocket implementation, with the README's flags: the hub's message
    size bound, its heartbeat as uvicorn's pings, no compression."""
    options = {k: v for k, v in server_options(settings).items() if k != "ws"}
    return {**options, "ws": "auto", "ws_max_size": 16 * 1024,
            "ws_ping_interval": settings.ws_heartbeat_secs,
            "ws_ping_timeout": settings.ws_idle_timeout_secs - settings.ws_heartbeat_secs,
            "ws_per_message_deflate": False}


@contextlib.asynccontextmanager
async def serve(app: FastAPI, settings: Settings, path: str = "fast") -> AsyncIterator[str]:
    """Run `app` on a free port in this event loop, its live endpoint served the `path`
    way (`LIVE_PATHS`); yields "127.0.0.1:PORT"."""
    port = free_port()
    base = server_options(settings) if path == "fast" else asgi_options(settings)
    options = {**base, "port": port, "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class LiveClient:
    """A WebSocket client that decodes frames (objects or batched arrays) into events."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames = 0
        self._buffer: list[dict[str, Any]] = []

    async def next(self, wait_secs: float = RECV_TIMEOUT_SECS) -> dict[str, Any]:
        if not self._buffer:
            raw = await asyncio.wait_for(self.ws.recv(), wait_secs)
            self.frames += 1
            data = orjson.loads(raw)
            self._buffer.extend(data if isinstance(data, list) else [data])
        return self._buffer.pop(0)

    async def next_of(self, *types: str, wait_secs: float = RECV_TIMEOUT_SECS) -> dict[str, Any]:
        """The next event of one of `types`, skipping others (e.g. presence)."""
        while True:
            event = await self.next(wait_secs)
            if event["type"] in types:
                return event

    async def events(self, count: int, *, skip: tuple[str, ...] = ("p-u",)) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < count:
            event = await self.next()
            if event["type"] not in skip:
                found.append(event)
        return found

    async def quiet(self, secs: float = 0.3, *, skip: tuple[str, ...] = ("p-u",)) -> bool:
        """True when nothing (but `skip` types) arrives within `secs`."""
        try:
            while True:
                event = await self.next(secs)
                if event["type"] not in skip:
                    return False
        except TimeoutError:
            return True

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def close_code(self, wait_secs: float = RECV_TIMEOUT_SECS) -> int | None:
        """Wait for the server to close; returns its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), wait_secs)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


@contextlib.asynccontextmanager
async def live_client(address: str, **params: Any) -> AsyncIterator[LiveClient]:
    query = httpx.QueryParams({k: str(v) for k, v in params.items()})
    async with connect(f"ws://{address}/sub?{query}", max_queue=None,
                       open_timeout=RECV_TIMEOUT_SECS) as ws:
        yield LiveClient(ws)
