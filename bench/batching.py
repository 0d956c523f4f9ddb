"""Scenario 5: batching under a burst into one image.

Subscribers connect with `batch=1`; a burst aims at `batch_rate` events per second for
`batch_secs`: from POSTs (each a conversation with its first comment: two events), which
reach only the rate the REST API sustains, and, to test the policy at the full rate, from
events published straight into the channel's Redis topic (as other nodes would). Per client:
frames per second (mean over the burst, and the most in any one-second window), and whether
it received every event of the burst by `seq`, each once, in order. The expected seqs are
the channel's position before and after the burst (read through the REST API, or counted
by the injector).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from bench.clients import EVENTS, LOST
from bench.config import Config
from bench.peers import READY_TIMEOUT_SECS, Peer
from bench.publishers import PostPublisher, Publisher, RedisInjector, paced, wait_for
from bench.servers import Lab, scratch_redis
from bench.stats import percentile

# After the burst, how long every client may take to receive every event.
DRAIN_TIMEOUT_SECS = 30.0


async def burst(lab: Lab, config: Config) -> dict[str, Any]:
    """The burst from POSTs: what the product does, at whatever rate the REST API reaches."""
    peer = Peer.start(lab, "imagechat", config, "batching")
    try:
        publisher = PostPublisher(peer.server.base_url, peer.url_id, with_comment=True,
                                  connections=32)
        result = await _burst(peer, publisher, config, config.batch_rate / 2, 128)
        result["post_failures"] = publisher.failures
        return result
    finally:
        lab.stop(peer.server)


async def burst_injected(lab: Lab, config: Config) -> dict[str, Any]:
    """The full burst rate, events published straight into the channel's Redis topic."""
    with scratch_redis(config.redis_url) as redis_url:
        server = lab.imagechat(lab.sqlite_url(), redis_url=redis_url)
        try:
            peer = Peer("imagechat", server, config.url_id("batching-redis"))
            # One publish at a time keeps the seqs in order on the way to Redis.
            return await _burst(peer, RedisInjector(redis_url, peer.url_id), config,
                                config.batch_rate, 1)
        finally:
            lab.stop(server)


async def _burst(peer: Peer, publisher: Publisher, config: Config, publish_rate: float,
                 in_flight: int) -> dict[str, Any]:
    pool = peer.subscribers(config.batch_subscribers, config.client_processes, "batch",
                            batch=True)
    try:
        await pool.wait_ready(READY_TIMEOUT_SECS)
        await asyncio.sleep(0.6)
        seq_before = await _seq(publisher)
        pool.reset()
        started = time.time()
        await paced(publisher, publish_rate, config.batch_secs, max_in_flight=in_flight)
        posted = time.time() - started
        seq_after = await _seq(publisher)
        expected = list(range(seq_before + 1, seq_after + 1))
        burst_end = time.monotonic()
        await wait_for(lambda: pool.total(EVENTS) >= len(expected) * pool.count,
                       DRAIN_TIMEOUT_SECS, step=0.05)
        drained = time.monotonic() - burst_end
        await asyncio.sleep(0.3)
        reports = pool.report()
        conns = [c for report in reports for c in report["conns"]]
        waits = [w for report in reports for w in report["waits"]]
        return _summarise(conns, expected, posted) | {
            # How long the oldest event of a frame had waited (its server timestamp to
            # arrival): the delay batching adds, plus the fan-out's own.
            "frame_wait_ms_p50": round(percentile(waits, 50) * 1000, 1),
            "frame_wait_ms_p99": round(percentile(waits, 99) * 1000, 1),
            "frame_wait_ms_max": round(max(waits, default=0.0) * 1000, 1),
            "secs_to_drain_after_burst": round(drained, 2),
            "subscribers": pool.count,
            "target_events_per_sec": config.batch_rate,
            "achieved_events_per_sec": round(len(expected) / posted, 1),
            "connections_lost": pool.total(LOST),
        }
    finally:
        await publisher.close()
        pool.close()


async def _seq(publisher: Publisher) -> int:
    if isinstance(publisher, PostPublisher):
        return await publisher.seq()
    assert isinstance(publisher, RedisInjector)
    return publisher.seq


def _summarise(conns: list[tuple[list[float], list[int]]], expected: list[int],
               posted: float) -> dict[str, Any]:
    complete = 0
    missing = 0
    duplicates = 0
    peak = 0
    gaps: list[float] = []
    mean_rates = []
    frames_total = 0
    for times, seqs in conns:
        if seqs == expected:
            complete += 1
        missing += len(set(expected) - set(seqs))
        duplicates += len(seqs) - len(set(seqs))
        frames_total += len(times)
        peak = max(peak, _max_in_window(times, 1.0))
        gaps.extend(b - a for a, b in itertools.pairwise(times))
        # Frames per second as the rate of frame intervals: (n - 1) / (last - first). The
        # first frame of a quiet channel leaves at once and is not an interval.
        if len(times) >= 2 and times[-1] > times[0]:
            mean_rates.append((len(times) - 1) / (times[-1] - times[0]))
    events = len(expected)
    return {
        "events": events,
        "clients_with_every_event_in_order": complete,
        "missing_deliveries": missing,
        "duplicate_deliveries": duplicates,
        "frames_per_sec_mean": round(max(mean_rates, default=0.0), 1),
        "frames_per_sec_peak_1s_window": peak,
        "frame_gap_ms_min": round(min(gaps, default=0.0) * 1000, 1),
        "frame_gap_ms_p1": round(percentile(gaps, 1) * 1000, 1),
        "frame_gap_ms_p50": round(percentile(gaps, 50) * 1000, 1),
        "events_per_frame": round(events * len(conns) / frames_total, 1) if frames_total else 0,
        "burst_secs": round(posted, 2),
    }


def _max_in_window(times: list[float], width: float) -> int:
    best = 0
    low = 0
    for high, t in enumerate(times):
        while t - times[low] >= width:
            low += 1
        best = max(best, high - low + 1)
    return best
