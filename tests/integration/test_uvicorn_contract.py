"""The part of uvicorn that live/ relies on, checked on the installed release.

`imagechat serve` hands uvicorn our own WebSocket protocol class (`Config(ws=...)`,
live/connection.py). On an upgrade request, uvicorn's HTTP protocols (h11 and httptools)
build it with `config=`, `server_state=` and `app_state=` (the lifespan's state: the hub),
call `connection_made(transport)`, pass the request head, re-serialised, to
`data_received`, and then hand the transport over. live/forwarded.py reads
`config.proxy_headers` and `config.forwarded_allow_ips`. None of this is uvicorn's public
API, so pyproject.toml bounds uvicorn, and this test fails loudly when a release changes it.
"""

from __future__ import annotations

import asyncio
import socket
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

import pytest
import uvicorn
from packaging.requirements import Requirement

from tests.server_process import free_port

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
BROKEN = ("uvicorn {release} no longer hands upgraded sockets to a protocol class as live/ "
          "expects ({what}). Pin uvicorn below {release} in pyproject.toml, or adapt "
          "live/connection.py and live/forwarded.py to it.")


def test_the_installed_uvicorn_is_inside_the_checked_range() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    bound = next(Requirement(d) for d in dependencies if Requirement(d).name == "uvicorn")
    assert any(spec.operator == "<" for spec in bound.specifier), \
        "uvicorn needs an upper bound in pyproject.toml: live/ relies on its internals"
    installed = version("uvicorn")
    assert bound.specifier.contains(installed), (
        f"uvicorn {installed} is outside {bound.specifier}: run this test file on it, then "
        "move the bound")


class Recorder(asyncio.Protocol):
    """Stands in for LiveConnection: records how uvicorn built and fed it."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.data = b""
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.data += data
        if self.data.endswith(b"\r\n\r\n"):
            Recorder.seen.append({"kwargs": self.kwargs, "data": self.data,
                                  "transport": self.transport})
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")  # type: ignore[attr-defined]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        scope["state"]["hub"] = "the hub"
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})


@asynccontextmanager
async def server(http: str) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=http, ws=Recorder,
                            lifespan="on", log_level="warning", proxy_headers=True,
                            forwarded_allow_ips="10.0.0.1")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    try:
        while not running.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield port
    finally:
        running.should_exit = True
        await task


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_an_upgrade_reaches_the_protocol_class_as_live_expects(http: str) -> None:
    release = version("uvicorn")
    Recorder.seen.clear()
    request = (b"GET /sub?tenantIdWS=demo&urlId=a HTTP/1.1\r\nHost: example.test\r\n"
               b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    async with server(http) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                       family=socket.AF_INET)
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 101"), BROKEN.format(
        release=release, what="the upgrade did not reach the protocol class")
    [seen] = Recorder.seen
    kwargs = seen["kwargs"]
    assert set(kwargs) >= {"config", "server_state", "app_state"}, BROKEN.format(
        release=release, what=f"it is built with {sorted(kwargs)}")
    assert kwargs["app_state"].get("hub") == "the hub", BROKEN.format(
        release=release, what="app_state does not carry the lifespan's state")
    config = kwargs["config"]
    assert config.proxy_headers is True and "10.0.0.1" in config.forwarded_allow_ips, \
        BROKEN.format(release=release, what="config.proxy_headers/forwarded_allow_ips moved")
    head = seen["data"].split(b"\r\n")
    assert head[0] == b"GET /sub?tenantIdWS=demo&urlId=a HTTP/1.1", BROKEN.format(
        release=release, what=f"the request line arrives as {head[0]!r}")
    names = {line.split(b":", 1)[0].lower() for line in head[1:] if line}
    assert {b"host", b"upgrade", b"sec-websocket-key"} <= names, BROKEN.format(
        release=release, what="the request headers do not all arrive")
