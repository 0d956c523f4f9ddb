"""The Redis broker (redis://): live events between nodes, one pub/sub channel per image.

A node subscribes only to the channels its clients watch. When the link drops, the reader
reconnects with back-off, subscribes again to every key and then calls the reconnect
handler, which catches up from the event log: whatever was published while the link was
down is in the log, so no client misses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from imagechat.bus.base import MessageHandler, ReconnectHandler

log = logging.getLogger("imagechat.bus")

# Back-off between reconnect attempts: doubles from the first value up to the cap.
RECONNECT_FIRST_SECS = 0.1
RECONNECT_MAX_SECS = 2.0
# A node's liveness key expires this long after its last refresh; its viewers then stop
# counting toward presence totals.
NODE_TTL_SECS = 30
NODE_REFRESH_SECS = 10
# How often the reader checks for a first subscription when it has none.
IDLE_POLL_SECS = 0.05
_PREFIX = "imagechat:"


class RedisBroker:
    def __init__(self, url: str) -> None:
        self.url = url
        self.node_id = secrets.token_hex(8)
        self._redis: aioredis.Redis = aioredis.from_url(url)
        self._pubsub: Any = None
        self._keys: set[str] = set()
        self._handler: MessageHandler | None = None
        self._on_reconnect: ReconnectHandler | None = None
        self._reader: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    def set_handler(self, handler: MessageHandler) -> None:
        self._handler = handler

    def set_reconnect_handler(self, handler: ReconnectHandler) -> None:
        self._on_reconnect = handler

    async def start(self) -> None:
        await self._connect()
        self._reader = asyncio.create_task(self._read_forever())
        self._keeper = asyncio.create_task(self._keep_node_alive())

    async def stop(self) -> None:
        for task in (self._reader, self._keeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(RedisError, OSError):
            await self._redis.delete(self._node_key(self.node_id))
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def ping(self) -> None:
        if self._reader is None:
            raise ConnectionError("not connected yet")
        if not self._connected.is_set():
            raise ConnectionError("the subscription link is down; reconnecting")
        await self._redis.ping()

    async def _connect(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        if self._keys:
            await pubsub.subscribe(*self._keys)
        else:
            await self._redis.ping()
        self._pubsub = pubsub
        self._connected.set()

    async def subscribe(self, key: str) -> None:
        self._keys.add(key)
        if self._pubsub is not None and self._connected.is_set():
            try:
                await self._pubsub.subscribe(key)
            except (RedisError, OSError):
                log.warning("subscribe failed; it is retried on reconnect")

    async def unsubscribe(self, key: str) -> None:
        self._keys.discard(key)
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(key)

    async def publish(self, key: str, payload: bytes) -> None:
        try:
            await self._redis.publish(key, payload)
        except (RedisError, OSError):
            # The event is committed and logged; other nodes catch up from the log when
            # their link returns. Deliver here at once so this node's clients do not wait.
            log.warning("publish failed; delivering locally only", exc_info=True)
            if self._handler is not None and key in self._keys:
                await self._handler(key, payload)

    async def _read_forever(self) -> None:
        delay = RECONNECT_FIRST_SECS
        while True:
            try:
                if not self._pubsub.subscribed:
                    # get_message returns at once without subscriptions: wait instead of
                    # spinning (a spin would starve the event loop).
                    await asyncio.sleep(IDLE_POLL_SECS)
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
                delay = RECONNECT_FIRST_SECS
                if message is None or message.get("type") != "message":
                    continue
                channel = message["channel"]
                key = channel.decode() if isinstance(channel, bytes) else str(channel)
                if self._handler is not None:
                    await self._handler(key, message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                self._connected.clear()
                log.warning("lost the Redis link; reconnecting in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECS)
                await self._reconnect()
            except Exception:
                log.exception("error handling a broker message")

    async def _reconnect(self) -> None:
        old = self._pubsub
        try:
            await self._connect()
        except (RedisError, OSError):
            return
        if old is not None:
            with contextlib.suppress(Exception):
                await old.aclose()
        log.info("Redis link restored; catching up from the event log")
        if self._on_reconnect is not None:
            await self._on_reconnect()

    # presence across nodes -------------------------------------------------------------
    def _node_key(self, node_id: str) -> str:
        return f"{_PREFIX}node:{node_id}"

    async def _keep_node_alive(self) -> None:
        while True:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.set(self._node_key(self.node_id), b"1", ex=NODE_TTL_SECS)
            await asyncio.sleep(NODE_REFRESH_SECS)

    async def viewers(self, key: str, local_count: int) -> int:
        redis_key = f"{_PREFIX}viewers:{key}"
        async with self._redis.pipeline(transaction=False) as pipe:
            if local_count:
                pipe.hset(redis_key, self.node_id, local_count)
            else:
                pipe.hdel(redis_key, self.node_id)
            pipe.expire(redis_key, 24 * 3600)
            pipe.hgetall(redis_key)
            *_, counts = await pipe.execute()
        if not counts:
            return local_count
        nodes = [n.decode() if isinstance(n, bytes) else str(n) for n in counts]
        alive = await self._redis.mget([self._node_key(n) for n in nodes])
        total = 0
        for node, flag in zip(nodes, alive, strict=True):
            if node == self.node_id:
                total += local_count
            elif flag is not None:
                total += int(counts[node.encode()] if node.encode() in counts else counts[node])
        return total
