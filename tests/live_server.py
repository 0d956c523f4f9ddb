"""An in-process server (uvicorn + the live protocol) and a small WebSocket test client."""

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


@contextlib.asynccontextmanager
async def serve(app: FastAPI, settings: Settings) -> AsyncIterator[str]:
    """Run `app` on a free port in this event loop; yields "127.0.0.1:PORT"."""
    port = free_port()
    options = {**server_options(settings), "port": port, "log_level": "warning"}
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
