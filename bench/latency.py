"""Scenario 2: from sending the write to its arrival at every subscriber, at a fixed rate.

Latency of an event = (last arrival among all subscribers) - (time.time() just before the
POST, or the publisher's send, was issued); both clocks are time.time() on this machine.
Per-delivery latency (each subscriber's own arrival) is reported too. A warm-up of
`warmup_secs` at the same rate comes first and is not measured. Two nodes: two
`imagechat serve` processes on one fresh PostgreSQL database and one Redis database, half
of the subscribers on each, every POST to the first.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from bench.clients import FRAMES, LOST, ClientPool
from bench.config import Config
from bench.peers import READY_TIMEOUT_SECS, Peer, specs_for
from bench.publishers import PostPublisher, Publisher, paced, wait_for
from bench.servers import Lab, scratch_postgres, scratch_redis
from bench.stats import percentile

DRAIN_TIMEOUT_SECS = 15.0


async def one_node(lab: Lab, kind: str, config: Config) -> dict[str, Any]:
    peer = Peer.start(lab, kind, config, "latency")
    try:
        pool = peer.subscribers(config.subscribers, config.client_processes, "ids")
        return await _measure(pool, peer.publisher, config)
    finally:
        lab.stop(peer.server)


async def one_node_postgres(lab: Lab, config: Config) -> dict[str, Any]:
    """ImageChat on PostgreSQL, in-process broker: the baseline of the two-node figure."""
    async with scratch_postgres(config.pg_url) as database_url:
        server = lab.imagechat(database_url)
        try:
            peer = Peer("imagechat", server, config.url_id("latency-pg"))
            pool = peer.subscribers(config.subscribers, config.client_processes, "ids")
            return await _measure(pool, peer.publisher, config)
        finally:
            lab.stop(server)


async def two_nodes(lab: Lab, config: Config) -> dict[str, Any]:
    url_id = config.url_id("latency-2n")
    async with scratch_postgres(config.pg_url) as database_url:
        with scratch_redis(config.redis_url) as redis_url:
            node_a = lab.imagechat(database_url, redis_url=redis_url)
            node_b = lab.imagechat(database_url, redis_url=redis_url)
            try:
                half = config.subscribers // 2
                per_node = max(1, config.client_processes // 2)
                specs = (specs_for(node_a, "imagechat", half, per_node, "ids", url_id=url_id)
                         + specs_for(node_b, "imagechat", config.subscribers - half, per_node,
                                     "ids", url_id=url_id, first_index=half))
                pool = ClientPool(specs)
                async def publisher() -> Publisher:
                    return PostPublisher(node_a.base_url, url_id)

                groups = {"node_a_subscribers": list(range(per_node)),
                          "node_b_subscribers": list(range(per_node, 2 * per_node))}
                return await _measure(pool, publisher, config, groups)
            finally:
                lab.stop(node_a)
                lab.stop(node_b)


async def _measure(pool: ClientPool, open_publisher: Callable[[], Awaitable[Publisher]],
                   config: Config, groups: dict[str, list[int]] | None = None) -> dict[str, Any]:
    publisher = None
    try:
        await pool.wait_ready(READY_TIMEOUT_SECS)
        publisher = await open_publisher()
        await asyncio.sleep(0.6)  # let the presence updates of the joins pass
        # Warm-up at the same rate, not measured (as in the throughput scenario): the first
        # events of a fresh server pay for opening the publisher's connection and the
        # channel's first use, on every peer alike.
        warm_before = pool.total(FRAMES)
        warm = await paced(publisher, config.latency_rate, config.warmup_secs)
        await wait_for(lambda: pool.total(FRAMES) >= warm_before + len(warm) * pool.count,
                       DRAIN_TIMEOUT_SECS)
        await asyncio.sleep(0.3)
        if isinstance(publisher, PostPublisher):
            publisher.post_secs.clear()
        before = pool.total(FRAMES)
        sent = await paced(publisher, config.latency_rate, config.latency_secs)
        expected = before + len(sent) * pool.count
        await wait_for(lambda: pool.total(FRAMES) >= expected, DRAIN_TIMEOUT_SECS)
        await asyncio.sleep(0.3)
        reports = pool.report()
        result = _summarise(sent, [r["arrivals"] for r in reports], pool.count)
        result["rate_per_sec"] = config.latency_rate
        result["connections_lost"] = pool.total(LOST)
        if isinstance(publisher, PostPublisher):
            result["post_failures"] = publisher.failures
            result["post_ms_p50"] = round(percentile(publisher.post_secs, 50) * 1000, 1)
            result["post_ms_p99"] = round(percentile(publisher.post_secs, 99) * 1000, 1)
        for name, indexes in (groups or {}).items():
            subset = [reports[i]["arrivals"] for i in indexes]
            count = sum(pool.specs[i].count for i in indexes)
            part = _summarise(sent, subset, count)
            result[name] = {k: part[k] for k in ("all_p50_ms", "all_p99_ms", "missing")}
        return result
    finally:
        if publisher is not None:
            await publisher.close()
        pool.close()


def _summarise(sent: dict[str, float], arrivals: list[dict[str, list[float]]],
               subscribers: int) -> dict[str, Any]:
    merged: dict[str, list[float]] = defaultdict(list)
    for part in arrivals:
        for event_id, times in part.items():
            merged[event_id].extend(times)
    to_all: list[float] = []
    each: list[float] = []
    missing = 0
    first = min(sent.values(), default=0.0)
    slowest: list[tuple[float, float]] = []  # (latency, seconds into the run)
    for event_id, sent_at in sent.items():
        times = merged.get(event_id, [])
        missing += subscribers - len(times)
        each.extend(t - sent_at for t in times)
        if len(times) >= subscribers:
            to_all.append(max(times) - sent_at)
            slowest.append((max(times) - sent_at, sent_at - first))
    slowest.sort(reverse=True)
    return {
        "events": len(sent),
        "subscribers": subscribers,
        "all_p50_ms": _ms(percentile(to_all, 50)),
        "all_p99_ms": _ms(percentile(to_all, 99)),
        "all_max_ms": _ms(max(to_all, default=float("nan"))),
        "each_p50_ms": _ms(percentile(each, 50)),
        "each_p99_ms": _ms(percentile(each, 99)),
        "missing": missing,
        # The three slowest events: when they were sent (s into the run) and their latency.
        "slowest": [f"{_ms(lat)} ms at {at:.2f} s" for lat, at in slowest[:3]],
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
