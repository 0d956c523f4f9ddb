"""A small image host on 127.0.0.1 for the fetch tests: files, redirects, slow answers,
error statuses, all set per path by the test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.server_process import free_port


@dataclass
class Served:
    body: bytes = b""
    content_type: str = "image/png"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_secs: float = 0.0


@dataclass
class ImageHost:
    base: str
    files: dict[str, Served]
    hits: dict[str, int]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def put(self, path: str, body: bytes, content_type: str = "image/png", **extra: object
            ) -> str:
        self.files[path] = Served(body=body, content_type=content_type, **extra)  # type: ignore[arg-type]
        return self.url(path)


@contextlib.asynccontextmanager
async def image_host() -> AsyncIterator[ImageHost]:
    files: dict[str, Served] = {}
    hits: dict[str, int] = {}

    async def serve(request: Request) -> Response:
        path = request.url.path
        hits[path] = hits.get(path, 0) + 1
        found = files.get(path)
        if found is None:
            return Response(b"not here", status_code=404, media_type="text/plain")
        if found.delay_secs:
            await asyncio.sleep(found.delay_secs)
        etag = found.headers.get("ETag")
        if etag and request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(found.body, status_code=found.status, media_type=found.content_type,
                        headers=found.headers)

    app = Starlette(routes=[Route("/{path:path}", serve)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield ImageHost(f"http://127.0.0.1:{port}", files, hits)
    finally:
        server.should_exit = True
        await task
