"""Several nodes are one system (issue: live sync). Three `imagechat serve` processes share
PostgreSQL and Redis; thirty widget-like clients spread over them write in a burst. Every
client must end with exactly the server's state, having applied each event once, in order
— also when a node is killed mid-burst, and when Redis restarts mid-burst."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx

from tests.integration.cluster import (
    Node,
    RedisServer,
    WidgetClient,
    cluster,
    wait_until,
    write_with_retry,
)

CLIENTS = 30
WRITES_PER_CLIENT = 4
CONVERGE_TIMEOUT_SECS = 40
IMAGE = "board.png"


async def _burst(nodes: list[Node], chaos: Callable[[], None] | None = None) -> None:
    clients = [WidgetClient(f"viewer-{i}", nodes, IMAGE, node_index=i) for i in range(CLIENTS)]
    threads: list[str] = []
    stop = asyncio.Event()
    rng = random.Random(7)
    async with httpx.AsyncClient(timeout=10) as http:
        runners = [asyncio.create_task(c.run(http, stop)) for c in clients]
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 30)

        async def writes(client: WidgetClient) -> None:
            for n in range(WRITES_PER_CLIENT):
                if n % 2 == 1 and threads:
                    path = f"/comments/demo?urlId={rng.choice(threads)}"
                    await write_with_retry(http, client, path, {
                        "comment": f"{client.name} #{n}", "commenterName": client.name})
                    continue
                response = await write_with_retry(http, client, "/comment-image-chats/demo", {
                    "urlId": IMAGE, "x": rng.uniform(0, 100), "y": rng.uniform(0, 100),
                    "comment": f"{client.name} marker {n}", "commenterName": client.name,
                    "broadcastId": f"{client.name}-{n}"})
                if response is not None and response.status_code == 200:
                    threads.append(response.json()["chat"]["windowUrlId"])

        burst = asyncio.gather(*(writes(c) for c in clients))
        if chaos is not None:
            await asyncio.sleep(0.3)
            chaos()
        await burst

        survivor = next(n for n in nodes if n.alive)
        expected = (await http.get(f"{survivor.base}/comment-image-chats/demo",
                                   params={"urlId": IMAGE})).json()
        final_seq = expected["seq"]
        markers = {c["_id"]: c["commentCount"] for c in expected["conversations"]}
        await wait_until(lambda: all(c.seq >= final_seq for c in clients),
                         CONVERGE_TIMEOUT_SECS)
        stop.set()
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    assert final_seq >= CLIENTS * WRITES_PER_CLIENT  # every write logged at least one event
    for client in clients:
        assert client.errors == [], client.errors
        assert client.seq == final_seq, (client.name, client.seq, final_seq)
        assert client.markers == markers, client.name
        assert client.applied == sorted(set(client.applied)), client.name


async def test_three_nodes_converge_after_a_burst(
    shared_database: str, redis_server: RedisServer
) -> None:
    with cluster(shared_database, redis_server, 3) as nodes:
        await _burst(nodes)


async def test_a_node_killed_mid_burst_loses_nothing(
    shared_database: str, redis_server: RedisServer
) -> None:
    with cluster(shared_database, redis_server, 3) as nodes:
        await _burst(nodes, chaos=nodes[0].kill)
        assert not nodes[0].alive


async def test_redis_restarted_mid_burst_loses_nothing(
    shared_database: str, redis_server: RedisServer
) -> None:
    def restart_redis() -> None:
        redis_server.stop()
        redis_server.start()

    with cluster(shared_database, redis_server, 3) as nodes:
        await _burst(nodes, chaos=restart_redis)
