"""Publishers: what creates events on each server under test, and two ways to drive them.

- ImageChat: `POST /comment-image-chats/{tenant}` (one `new-image-chat` event, or two with
  a first comment), exactly what the widget does;
- the `websockets` reference: a message on its `/pub` connection;
- python-socketio: a `publish` event from a publisher client.

`paced` sends at a fixed rate and remembers when (time.time()) each event was sent, for
latency. `closed_loop` sends as fast as the subscribers receive: it keeps at most `window`
events in flight, judged by the deliveries counted in the subscriber processes, so no
server is pushed into unbounded buffering (or, for ImageChat, into slow-consumer closes).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
import orjson
from websockets.asyncio.client import ClientConnection, connect

TENANT = "demo"


class Publisher(Protocol):
    events_per_publish: int

    async def publish(self, event_id: str) -> None: ...

    async def close(self) -> None: ...


class PostPublisher:
    """Creates conversations on ImageChat through its REST API."""

    def __init__(self, base_url: str, url_id: str, *, with_comment: bool = False,
                 connections: int = 16) -> None:
        self.base_url = base_url
        self.url_id = url_id
        self.with_comment = with_comment
        self.events_per_publish = 2 if with_comment else 1
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            json_serialize=lambda o: orjson.dumps(o).decode())
        self.failures = 0
        self.post_secs: list[float] = []

    async def publish(self, event_id: str) -> None:
        body: dict[str, Any] = {"urlId": self.url_id, "x": round(random.uniform(0, 100), 2),
                                "y": round(random.uniform(0, 100), 2), "broadcastId": event_id}
        if self.with_comment:
            body["comment"] = "Look at the light on the water here!"
            body["commenterName"] = "Bench"
        started = time.perf_counter()
        async with self.session.post(f"{self.base_url}/comment-image-chats/{TENANT}",
                                     json=body) as response:
            await response.read()
            if response.status != 200:
                self.failures += 1
        self.post_secs.append(time.perf_counter() - started)

    async def seq(self) -> int:
        async with self.session.get(f"{self.base_url}/comment-image-chats/{TENANT}",
                                    params={"urlId": self.url_id}) as response:
            data = orjson.loads(await response.read())
            return int(data["seq"])

    async def close(self) -> None:
        await self.session.close()


def reference_event(event_id: str, seq: int) -> dict[str, Any]:
    """A `new-image-chat`-like event of about 250 bytes (the issue's reference payload)."""
    return {"type": "new-image-chat", "timestamp": time.time_ns() // 1_000_000,
            "broadcastId": event_id, "seq": seq,
            "chat": {"_id": uuid.uuid4().hex[:24], "urlId": "img", "x": 10.0, "y": 20.0,
                     "commentCount": 0, "resolved": False, "createdAt": 0, "userId": None}}


def imagechat_event(event_id: str, seq: int, url_id: str) -> dict[str, Any]:
    """A real-shaped `new-image-chat` event: what ImageChat's fan-out sends (~330 bytes)."""
    chat_id = uuid.uuid4().hex[:24]
    now = time.time_ns() // 1_000_000
    return {"type": "new-image-chat", "timestamp": now, "broadcastId": event_id, "seq": seq,
            "chat": {"_id": chat_id, "urlId": url_id, "windowUrlId": f"chat-{chat_id}",
                     "x": 21.57, "y": 21.71, "commentCount": 0, "resolved": False,
                     "createdAt": now, "userId": None, "anonUserId": None}}


class RedisInjector:
    """Publishes real-shaped `new-image-chat` events straight into an ImageChat channel's
    Redis topic, with consecutive seqs from 1 (a fresh channel), as another node would.

    Isolates the hub's fan-out from the REST and database work of creating events.
    """

    events_per_publish = 1

    def __init__(self, redis_url: str, url_id: str) -> None:
        import redis.asyncio as aioredis

        from imagechat.bus.base import channel_key
        from imagechat.domain.rules import clean_url_id

        self.url_id = clean_url_id(url_id)
        self.topic = channel_key(TENANT, self.url_id)
        self.redis = aioredis.from_url(redis_url)
        self.seq = 0

    async def publish(self, event_id: str) -> None:
        self.seq += 1
        await self.redis.publish(self.topic, orjson.dumps(
            imagechat_event(event_id, self.seq, self.url_id)))

    async def close(self) -> None:
        await self.redis.aclose()


class WebsocketsPublisher:
    """Sends each event on the reference server's `/pub` connection."""

    events_per_publish = 1

    def __init__(self, ws: ClientConnection, url_id: str = "") -> None:
        self.ws = ws
        self.sent = 0
        # Set: ImageChat's own event for this urlId (byte for byte the size ImageChat's
        # fan-out sends), else the issue's ~250-byte reference event.
        self.url_id = url_id

    @classmethod
    async def open(cls, port: int, url_id: str = "") -> WebsocketsPublisher:
        return cls(await connect(f"ws://127.0.0.1:{port}/pub", compression=None), url_id)

    async def publish(self, event_id: str) -> None:
        self.sent += 1
        event = (imagechat_event(event_id, self.sent, self.url_id) if self.url_id
                 else reference_event(event_id, self.sent))
        await self.ws.send(orjson.dumps(event).decode())

    async def close(self) -> None:
        await self.ws.close()


class SocketioPublisher:
    """A Socket.IO client (Engine.IO v4 over WebSocket) that emits `publish` events."""

    events_per_publish = 1

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sent = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, port: int) -> SocketioPublisher:
        ws = await connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
                           "&role=pub", compression=None)
        opening = await ws.recv()
        assert isinstance(opening, str) and opening.startswith("0"), opening
        await ws.send("40")
        joined = await ws.recv()
        assert isinstance(joined, str) and joined.startswith("40"), joined
        return cls(ws)

    async def _read(self) -> None:
        async for message in self.ws:
            if message == "2":
                await self.ws.send("3")

    async def publish(self, event_id: str) -> None:
        self.sent += 1
        packet = orjson.dumps(["publish", reference_event(event_id, self.sent)])
        await self.ws.send("42" + packet.decode())

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


async def paced(publisher: Publisher, rate: float, duration: float, *,
                max_in_flight: int = 64) -> dict[str, float]:
    """Publish `rate` events per second for `duration` seconds; id -> time.time() sent.

    A server that cannot keep up gets at most `max_in_flight` requests at once (the rest of
    the schedule slips, and nothing is sent after `duration`), so the achieved rate is what
    the server sustained.
    """
    sent: dict[str, float] = {}
    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    end = start + duration
    for i in range(int(rate * duration)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= max_in_flight:
            await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
        if time.monotonic() >= end:
            break
        event_id = str(uuid.uuid4())
        sent[event_id] = time.time()
        task = asyncio.create_task(publisher.publish(event_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks), timeout=30)
    return sent


async def closed_loop(publisher: Publisher, delivered: Callable[[], int], subscribers: int,
                      *, window: int, workers: int, until: Callable[[], bool]) -> int:
    """Publish while `until()` is false, keeping at most `window` events undelivered.

    One gate task polls the subscribers' shared counters (cheap: a few reads per
    millisecond), so many concurrent workers do not each spin. Returns the number of
    events published.
    """
    published = 0
    gate = asyncio.Event()

    def has_room() -> bool:
        return published - delivered() / subscribers < window

    async def keeper() -> None:
        while not until():
            if has_room():
                gate.set()
            await asyncio.sleep(0.001)
        gate.set()  # release the workers so they see `until()`

    async def worker() -> None:
        nonlocal published
        while True:
            await gate.wait()
            if until():
                return
            if not has_room():
                gate.clear()
                continue
            published += publisher.events_per_publish
            await publisher.publish(str(uuid.uuid4()))

    await asyncio.gather(keeper(), *(worker() for _ in range(workers)))
    return published


async def wait_for(condition: Callable[[], bool], limit_secs: float,
                   step: float = 0.02) -> bool:
    deadline = time.monotonic() + limit_secs
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True

