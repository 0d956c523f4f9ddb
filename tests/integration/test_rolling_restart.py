"""A rolling restart behind a real load balancer (issue: run it for real). nginx, with the
README's configuration, in front of three `imagechat serve` nodes on PostgreSQL and Redis;
300 widget-like clients watch 10 images through it while a writer writes. Each node in
turn gets SIGTERM and is started again: its clients are closed with 1001, reconnect
through nginx to the others and resume. Every client must end with exactly the server's
state, each event applied once and in order."""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import subprocess

import httpx

from tests.integration.cluster import Node, RedisServer, WidgetClient, cluster, wait_until
from tests.integration.nginx import Nginx, nginx_binary

IMAGES = [f"board-{i}.png" for i in range(10)]
CLIENTS = 300
WRITES_PER_SEC = 10
# Writers' addresses: writes per visitor are rate limited (120 a minute).
WRITER_ADDRESSES = [f"10.200.0.{i}" for i in range(1, 41)]
SETTLE_SECS = 2.0  # of writes between two restarts
STOP_TIMEOUT_SECS = 20
TEST_TIMEOUT_SECS = 300


class Writer:
    """Writes through nginx at a steady pace: new conversations, and replies in them."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.rng = random.Random(11)
        self.threads: dict[str, list[str]] = {image: [] for image in IMAGES}
        self.writes = 0
        self.failures: list[str] = []
        self.addresses = itertools.cycle(WRITER_ADDRESSES)

    async def run(self, stop: asyncio.Event) -> None:
        images = itertools.cycle(IMAGES)
        while not stop.is_set():
            await self.write(next(images))
            await asyncio.sleep(1 / WRITES_PER_SEC)

    async def write(self, image: str) -> None:
        threads = self.threads[image]
        if threads and self.rng.random() < 0.5:
            path = f"/comments/demo?urlId={self.rng.choice(threads)}"
            body = {"comment": f"reply {self.writes}", "commenterName": "Writer"}
        else:
            path = "/comment-image-chats/demo"
            body = {"urlId": image, "x": self.rng.uniform(0, 100), "y": self.rng.uniform(0, 100),
                    "comment": f"marker {self.writes}", "commenterName": "Writer"}
        # nginx passes a request on when a node refuses it; a write that still fails (a
        # node stopping under it) is tried again, as the widget lets its user do.
        for _ in range(3):
            try:
                response = await self.http.post(path, json=body, headers={
                    "X-Forwarded-For": next(self.addresses)})
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))
                continue
            if response.status_code == 200:
                self.writes += 1
                if path.startswith("/comment-image-chats"):
                    threads.append(response.json()["chat"]["windowUrlId"])
                return
            self.failures.append(f"{response.status_code} {response.text[:200]}")


def stop_with_sigterm(node: Node) -> int:
    node.process.send_signal(signal.SIGTERM)
    try:
        return node.process.wait(timeout=STOP_TIMEOUT_SECS)
    except subprocess.TimeoutExpired:
        node.process.kill()
        node.process.wait()
        raise AssertionError("a node did not stop on SIGTERM") from None


async def test_a_rolling_restart_behind_nginx_loses_nothing(
    shared_database: str, redis_server: RedisServer
) -> None:
    nginx_binary()  # skip (or fail under CI) before anything starts
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        await _rolling_restart(shared_database, redis_server)


async def _rolling_restart(database_url: str, redis: RedisServer) -> None:
    with cluster(database_url, redis, 3) as nodes:
        nginx = Nginx([node.address for node in nodes])
        try:
            nginx.start()
            await _through(nginx, nodes)
        finally:
            errors = nginx.errors()
            nginx.cleanup()
        assert "[emerg]" not in errors and "[crit]" not in errors, errors
        # nginx never found every node left out (what its default fail_timeout does to a
        # rolling restart): a client was always served.
        assert "no live upstreams" not in errors, errors[-2000:]


async def _through(nginx: Nginx, nodes: list[Node]) -> None:
    clients = [WidgetClient(f"viewer-{i}", [nginx], IMAGES[i % len(IMAGES)])
               for i in range(CLIENTS)]
    stop_clients, stop_writer = asyncio.Event(), asyncio.Event()
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=nginx.base, timeout=10, limits=limits) as http:
        runners = [asyncio.create_task(c.run(http, stop_clients)) for c in clients]
        try:
            assert await wait_until(lambda: all(c.connected.is_set() for c in clients), 60)
            writer = Writer(http)
            writing = asyncio.create_task(writer.run(stop_writer))
            for node in nodes:
                await asyncio.sleep(SETTLE_SECS)
                assert stop_with_sigterm(node) in (0, -signal.SIGTERM)
                node.start_again()
                await asyncio.to_thread(node.wait_ready)
                # Its clients are back (through nginx, on the other nodes).
                assert await wait_until(lambda: all(c.connected.is_set() for c in clients), 60)
            await asyncio.sleep(SETTLE_SECS)
            stop_writer.set()
            await writing

            expected = {}
            for image in IMAGES:
                body = (await http.get("/comment-image-chats/demo",
                                       params={"urlId": image})).json()
                expected[image] = (body["seq"], {c["_id"]: c["commentCount"]
                                                 for c in body["conversations"]})
            await wait_until(lambda: all(c.seq >= expected[c.url_id][0] for c in clients), 60)
        finally:
            stop_clients.set()
            for runner in runners:
                runner.cancel()
            await asyncio.gather(*runners, return_exceptions=True)

    assert writer.writes >= 3 * SETTLE_SECS * WRITES_PER_SEC, writer.writes
    assert writer.failures == [], writer.failures[:5]
    for client in clients:
        final_seq, markers = expected[client.url_id]
        assert client.errors == [], client.errors  # each seq was the previous + 1
        assert client.seq == final_seq, (client.name, client.seq, final_seq)
        assert client.markers == markers, client.name
        assert client.applied == sorted(set(client.applied)), client.name
        # Every node was restarted, so every client was closed at least once; each close
        # was a 1001 from a stopping node, and each resume was served (no resync).
        assert client.reconnects >= 1, client.name
        assert client.close_codes and set(client.close_codes) == {1001}, \
            (client.name, client.close_codes)
        assert client.resyncs == 0, client.name
