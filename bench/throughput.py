"""Scenario 1: deliveries per second, one channel, N subscribers in separate processes.

Each server is driven as fast as its subscribers receive (closed loop, at most
`window_events` events in flight), and deliveries are counted in the subscriber processes
over a fixed window after a warm-up.

ImageChat is measured twice:
- `imagechat`: events come from real POSTs (each creating a conversation with its first
  comment: two events), so the figure includes the REST and database work of creating them,
  which the peers do not do (they relay a ready-made message);
- `imagechat_fanout_only`: the node runs with the Redis broker and the events (real-shaped
  `new-image-chat` events with consecutive seqs) are published straight into the channel's
  Redis topic, as another node would: the hub's fan-out alone, without the write path.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.clients import FRAMES, LOST, ClientPool
from bench.config import Config
from bench.peers import READY_TIMEOUT_SECS, CpuMeter, Peer, pool_pids
from bench.publishers import PostPublisher, Publisher, RedisInjector, closed_loop
from bench.servers import Lab, Server, scratch_redis
from bench.stats import percentile


async def deliveries_per_second(lab: Lab, kind: str, config: Config) -> dict[str, Any]:
    peer = Peer.start(lab, kind, config, "throughput")
    try:
        pool = peer.subscribers(config.subscribers, config.client_processes, "count")
        workers = config.post_workers if kind == "imagechat" else 1
        return await _drive(peer.server, pool, lambda: peer.publisher(
            with_comment=config.events_per_post == 2), workers, config)
    finally:
        lab.stop(peer.server)


async def fanout_only(lab: Lab, config: Config, *, asgi: bool = False) -> dict[str, Any]:
    with scratch_redis(config.redis_url) as redis_url:
        server = lab.imagechat(lab.sqlite_url(), redis_url=redis_url, asgi=asgi)
        try:
            peer = Peer("imagechat", server, config.url_id("fanout"))
            pool = peer.subscribers(config.subscribers, config.client_processes, "count")

            async def injector() -> Publisher:
                return RedisInjector(redis_url, peer.url_id)

            return await _drive(server, pool, injector, 1, config)
        finally:
            lab.stop(server)


async def _drive(server: Server, pool: ClientPool,
                 open_publisher: Callable[[], Awaitable[Publisher]], workers: int,
                 config: Config) -> dict[str, Any]:
    publisher = None
    try:
        await pool.wait_ready(READY_TIMEOUT_SECS)
        publisher = await open_publisher()
        stop = False
        n = pool.count
        driver = asyncio.create_task(closed_loop(
            publisher, lambda: pool.total(FRAMES), n, window=config.window_events,
            workers=workers, until=lambda: stop))
        await asyncio.sleep(config.warmup_secs)
        cpu = CpuMeter({"server": server.pid, **pool_pids(pool), "main": os.getpid()})
        delivered0, t0 = pool.total(FRAMES), time.monotonic()
        cpu.start()
        await asyncio.sleep(config.throughput_secs)
        delivered1, t1 = pool.total(FRAMES), time.monotonic()
        usage = cpu.percent(t1 - t0)
        stop = True
        published = await asyncio.wait_for(driver, 30)
        await asyncio.sleep(0.5)
        frames = [f for report in pool.report() for f in report["frames"]]
        rate = (delivered1 - delivered0) / (t1 - t0)
        result: dict[str, Any] = {
            "deliveries_per_sec": round(rate),
            "events_per_sec": round(rate / n, 1),
            "subscribers": n,
            "published_events": published,
            "frames_per_connection_min": min(frames),
            "frames_per_connection_max": max(frames),
            "connections_lost": pool.total(LOST),
            "cpu_percent": usage,
            # Server CPU (all its threads, user + system) per delivery: what one delivery
            # costs whatever limited the rate.
            "server_cpu_us_per_delivery": round(usage["server"] / 100 / rate * 1e6, 2),
            "server_user_cpu_us_per_delivery": round(
                usage["server_user"] / 100 / rate * 1e6, 2),
        }
        if isinstance(publisher, PostPublisher):
            result["post_failures"] = publisher.failures
            result["post_ms_p50"] = round(percentile(publisher.post_secs, 50) * 1000, 1)
        return result
    finally:
        if publisher is not None:
            await publisher.close()
        pool.close()
