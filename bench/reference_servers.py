"""The peers ImageChat is measured against, each as small as the library allows.

- `websockets`: a `websockets` server; `/sub` subscribes, and every message received on
  `/pub` goes to all subscribers through `websockets.broadcast()` (the raw-Python reference).
- `socketio`: a python-socketio `AsyncServer` on aiohttp; subscribers join one room on
  connect, and every `publish` event from the publisher (query `role=pub`) is emitted to the
  room (what a Python user would otherwise pick).
- `picows`: the fastest Python WebSocket server (Cython, on uvloop); the same `/sub` and
  `/pub` as `websockets`, each message from `/pub` sent to every subscriber with
  `WSTransport.send` (picows has no broadcast: a loop over the subscribers is the idiom).

Each sends a small `hello` event to each subscriber once it is subscribed, so that the
benchmark's clients know when every subscription is in place. Both run on uvloop, as
ImageChat does under uvicorn.

Run: python -m bench.reference_servers {websockets,socketio,picows} --port PORT
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

HELLO = '{"type":"hello"}'
ROOM = "image"


async def serve_websockets(host: str, port: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    subscribers: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        if path.startswith("/pub"):
            async for message in ws:
                broadcast(subscribers, message)
            return
        subscribers.add(ws)
        try:
            await ws.send(HELLO)
            await ws.wait_closed()
        finally:
            subscribers.discard(ws)

    # No per-message deflate: ImageChat does not compress either, and it costs memory.
    async with serve(handler, host, port, compression=None, backlog=2048) as server:
        await server.serve_forever()


async def serve_socketio(host: str, port: int) -> None:
    import socketio
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if "role=pub" in environ.get("QUERY_STRING", ""):
            return
        await sio.enter_room(sid, ROOM)
        await sio.emit("hello", {"type": "hello"}, to=sid)

    @sio.event
    async def publish(sid: str, data: Any) -> None:
        await sio.emit("message", data, room=ROOM)

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=2048)
    await site.start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def serve_picows(host: str, port: int) -> None:
    from picows import (
        WSFrame,
        WSListener,
        WSMsgType,
        WSTransport,
        WSUpgradeRequest,
        ws_create_server,
    )

    subscribers: set[WSTransport] = set()
    text = WSMsgType.TEXT

    class Subscriber(WSListener):  # type: ignore[misc]
        def on_ws_connected(self, transport: WSTransport) -> None:
            subscribers.add(transport)
            transport.send(text, HELLO.encode())

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            subscribers.discard(transport)

    class Publisher(WSListener):  # type: ignore[misc]
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
                return
            message = frame.get_payload_as_bytes()
            for subscriber in subscribers:
                subscriber.send(text, message)

    def listener(request: WSUpgradeRequest) -> WSListener:
        return Publisher() if request.path.startswith(b"/pub") else Subscriber()

    server = await ws_create_server(listener, host, port, backlog=2048)
    async with server:
        await server.serve_forever()


SERVERS = {"websockets": serve_websockets, "socketio": serve_socketio, "picows": serve_picows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(SERVERS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.run(SERVERS[args.kind](args.host, args.port))


if __name__ == "__main__":
    main()
