"""Several real `imagechat serve` processes sharing PostgreSQL and a private Redis, and
simulated widget clients that keep their own copy of an image's state from live events."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.server_process import IMAGECHAT_BIN, free_port

STARTUP_TIMEOUT_SECS = 30


class RedisServer:
    """A private redis-server for one test, so restarting it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="imagechat-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required for multi-node tests"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.2
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Node:
    """One `imagechat serve` process."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "IMAGECHAT_DATABASE_URL": database_url,
                    "IMAGECHAT_REDIS_URL": redis_url, "IMAGECHAT_LOG_LEVEL": "warning"}
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [IMAGECHAT_BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def start_again(self) -> None:
        """A new process on the same port, once the last one has exited."""
        assert not self.alive
        self.process = self._spawn()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "node exited during start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("node did not start")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def cluster(database_url: str, redis: RedisServer, size: int) -> Iterator[list[Node]]:
    nodes: list[Node] = []
    try:
        # The first node migrates; the others start once it is up.
        nodes.append(Node(database_url, redis.url))
        nodes[0].wait_ready()
        nodes += [Node(database_url, redis.url) for _ in range(size - 1)]
        for node in nodes[1:]:
            node.wait_ready()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


class Endpoint(Protocol):
    """Where a client connects: a node, or a load balancer in front of nodes."""

    @property
    def base(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def alive(self) -> bool: ...


@dataclass
class WidgetClient:
    """Keeps an image's markers and comment counts from live events, like the widget.

    Checks the guarantees as it goes: every `seq` it applies is exactly the previous + 1
    (none lost, none twice, order kept); after a reconnect it resumes with `since`."""

    name: str
    nodes: Sequence[Endpoint]
    url_id: str
    node_index: int = 0
    seq: int = 0
    epoch: str | None = None
    markers: dict[str, int] = field(default_factory=dict)
    applied: list[int] = field(default_factory=list)
    reconnects: int = 0
    resyncs: int = 0
    errors: list[str] = field(default_factory=list)
    # The close code of each of its connections that the server closed (None: no close
    # frame, the TCP connection was lost).
    close_codes: list[int | None] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def forwarded_for(self) -> str:
        """The visitor's own address: nodes trust X-Forwarded-For from the loopback, as
        from a load balancer, so simulated visitors do not share one address's limits."""
        key = zlib.crc32(self.name.encode())
        return f"10.{key >> 16 & 255}.{key >> 8 & 255}.{key & 255}"

    def node(self) -> Endpoint:
        return self.nodes[self.node_index % len(self.nodes)]

    def next_live_node(self) -> None:
        for _ in range(len(self.nodes)):
            self.node_index += 1
            if self.node().alive:
                return

    async def load(self, http: httpx.AsyncClient) -> None:
        """The initial (or resync) read: the list and the seq it reflects."""
        body = (await http.get(f"{self.node().base}/comment-image-chats/demo",
                               params={"urlId": self.url_id})).json()
        self.markers = {c["_id"]: c["commentCount"] for c in body["conversations"]}
        self.seq, self.epoch = body["seq"], body["epoch"] or None

    def apply(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "resync-required":
            self.resyncs += 1
            raise ResyncNeeded
        if kind in ("p-u", "resumed"):
            return  # presence; the end-of-replay marker
        if event["seq"] != self.seq + 1:
            self.errors.append(f"{self.name}: seq {event['seq']} after {self.seq}")
        self.seq = event["seq"]
        self.applied.append(event["seq"])
        conversation = event.get("chat")
        if kind in ("new-image-chat", "image-chat-updated") and conversation:
            self.markers[conversation["_id"]] = conversation["commentCount"]
        elif kind == "deleted-image-chat" and conversation:
            self.markers.pop(conversation["_id"], None)

    async def run(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        await self.load(http)
        while not stop.is_set():
            params = {"urlId": self.url_id, "tenantIdWS": "demo", "userIdWS": self.name,
                      "since": str(self.seq)}
            if self.epoch:
                params["epoch"] = self.epoch
            url = f"ws://{self.node().address}/sub?{httpx.QueryParams(params)}"
            try:
                async with connect(url, open_timeout=5, max_queue=None,
                                   additional_headers={"X-Forwarded-For": self.forwarded_for}
                                   ) as ws:
                    self.connected.set()
                    async for raw in ws:
                        data = orjson.loads(raw)
                        for event in data if isinstance(data, list) else [data]:
                            self.apply(event)
                    # A normal close (1000, 1001) ends the loop rather than raising.
                    self.close_codes.append(ws.close_code)
            except ResyncNeeded:
                await self.load(http)
            except ConnectionClosed as exc:
                self.close_codes.append(exc.rcvd.code if exc.rcvd else None)
            except (InvalidHandshake, OSError, TimeoutError):
                pass
            if stop.is_set():
                return
            # Reconnect as the widget does: after a short random pause, to a live node.
            self.reconnects += 1
            self.connected.clear()
            self.next_live_node()
            await asyncio.sleep(random.uniform(0.05, 0.3))


class ResyncNeeded(Exception):
    pass


async def write_with_retry(
    http: httpx.AsyncClient, client: WidgetClient, path: str, body: dict[str, Any]
) -> httpx.Response | None:
    """A write through the client's node; if that node is dead, through another one."""
    # Each simulated visitor writes from its own address, as real visitors would: no
    # shared per-address rate limit.
    for _ in range(len(client.nodes) + 1):
        try:
            response = await http.post(f"{client.node().base}{path}", json=body, timeout=10,
                                       headers={"X-Forwarded-For": client.forwarded_for})
            assert response.status_code != 429, response.text
            if response.status_code < 500:
                return response
        except httpx.HTTPError:
            pass
        client.next_live_node()
    return None


async def wait_until(condition: Callable[[], bool], timeout_secs: float) -> bool:
    """Poll `condition` every 100 ms for at most `timeout_secs`; True once it holds."""
    for _ in range(int(timeout_secs * 10)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()
