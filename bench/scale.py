"""Scale figures of one node and of `--workers 2` (issue 16):

- `connections`: 10,000 and 20,000 subscribers held on one `imagechat serve` (SQLite, one
  image): the server's RSS per connection, and the latency of a fan-out to all of them
  (POST sent → the event has reached every one; p50 / p99 / max over paced POSTs);
- `workers`: `serve --workers 2` against one worker, both on SQLite and the Redis broker,
  in the same run: deliveries/s (1,000 subscribers, events from POSTs, closed loop as in
  bench/throughput.py) and writes/s (POSTs alone, as in bench/writes.py).

    .venv/bin/python -m bench.scale                           # both parts, about 4 minutes
    .venv/bin/python -m bench.scale --parts connections --sizes 10000
    .venv/bin/python -m bench.scale --parts workers

Everything runs on 127.0.0.1. The open-files limit is raised here (the server inherits it);
subscribers run in `--client-processes` processes, which raise their own. Every process is
started here and stopped by PID; only the chosen Redis database is flushed. The run stops
itself after `--max-minutes`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import latency, throughput, writes
from bench.config import Config
from bench.load import LoadWatcher
from bench.memory import KIB, _warm_up
from bench.peers import READY_TIMEOUT_SECS, Peer
from bench.publishers import PostPublisher, Publisher
from bench.servers import Lab, run_in_lab, scratch_redis

# Sockets of the server: every subscriber, plus the database, the broker and some slack.
FILES_SLACK = 1024
# 20,000 handshakes on two cores take a while: each client process opens its share.
SCALE_READY_TIMEOUT_SECS = max(READY_TIMEOUT_SECS, 300.0)


def raise_open_files(needed: int) -> int:
    """Raise this process's open-files limit (soft and, as root may, hard) to `needed`;
    processes started after this inherit it. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, max(hard, needed)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def held_connections(lab: Lab, size: int, config: Config,
                           workers: int = 1) -> dict[str, Any]:
    """RSS per connection and fan-out latency with `size` subscribers on one node (with
    `workers` > 1: `serve --workers`, one port, the Redis broker; RSS of all its processes)."""
    if workers == 1:
        peer = Peer.start(lab, "imagechat", config, f"scale-{size}")
        return await _held(lab, peer, size, config)
    return await _held_by_workers(lab, size, config, workers)


async def held_by_peer(lab: Lab, kind: str, size: int, config: Config) -> dict[str, Any]:
    """The same with a reference server (`picows`): ImageChat's own events, relayed."""
    return await _held(lab, Peer.start(lab, kind, config, f"scale-{size}"), size, config)


async def _held_by_workers(lab: Lab, size: int, config: Config,
                           workers: int) -> dict[str, Any]:
    with scratch_redis(config.redis_url) as redis_url:
        server = lab.imagechat(lab.sqlite_url(), redis_url=redis_url, workers=workers)
        result = await _held(lab, Peer("imagechat", server, config.url_id(f"scale-{size}")),
                             size, config)
        result["workers"] = workers
        return result


async def _held(lab: Lab, peer: Peer, size: int, config: Config) -> dict[str, Any]:
    pool = None
    try:
        await _warm_up(peer)
        await asyncio.sleep(config.settle_secs)
        before = peer.server.rss_bytes()
        started = time.monotonic()
        pool = peer.subscribers(size, config.client_processes, "ids")
        await pool.wait_ready(SCALE_READY_TIMEOUT_SECS)
        connect_secs = time.monotonic() - started
        await asyncio.sleep(config.settle_secs)
        after = peer.server.rss_bytes()
        result: dict[str, Any] = {
            "connections": pool.count,
            "connect_secs": round(connect_secs, 1),
            "rss_before_mib": round(before / KIB / KIB, 1),
            "rss_after_mib": round(after / KIB / KIB, 1),
            "kib_per_connection": round((after - before) / pool.count / KIB, 2),
        }
        # `_measure` closes the pool when it is done.
        fanout = await latency._measure(pool, peer.publisher, config)
        pool = None
        result.update({f"fanout_{k}": v for k, v in fanout.items()})
        return result
    finally:
        if pool is not None:
            pool.close()
        lab.stop(peer.server)


async def with_workers(lab: Lab, workers: int, config: Config) -> dict[str, Any]:
    """Deliveries/s and writes/s of one node with `workers` processes (Redis broker)."""
    out: dict[str, Any] = {"workers": workers}
    with scratch_redis(config.redis_url) as redis_url:
        server = lab.imagechat(lab.sqlite_url(), redis_url=redis_url, workers=workers)
        try:
            peer = Peer("imagechat", server, config.url_id(f"workers-{workers}"))
            pool = peer.subscribers(config.subscribers, config.client_processes, "count")

            async def publisher() -> Publisher:
                return PostPublisher(server.base_url, peer.url_id,
                                     with_comment=config.events_per_post == 2)

            # Each POST's events reach the subscribers of both workers through Redis.
            out["deliveries"] = await throughput._drive(server, pool, publisher,
                                                        config.post_workers, config)
        finally:
            lab.stop(server)
    with scratch_redis(config.redis_url) as redis_url:
        out["writes"] = await writes.measure(
            lab, with_comment=False, concurrency=8, warmup_secs=config.warmup_secs,
            window_secs=config.throughput_secs, profile=None, redis_url=redis_url,
            workers=workers)
    return out


async def run(lab: Lab, args: argparse.Namespace, results: dict[str, Any]) -> None:
    base = Config(client_processes=args.client_processes, settle_secs=3.0,
                  latency_rate=args.rate, latency_secs=args.secs, warmup_secs=1.0,
                  redis_url=args.redis_url)
    if "connections" in args.parts:
        for size in args.sizes:
            # One process holds at most its open-files limit; where this machine's hard
            # limit is lower than the size (and cannot be raised without root's
            # CAP_SYS_RESOURCE), the node runs as many workers as it takes, on one port.
            workers = -(-(size + FILES_SLACK) // args.files_limit)
            label = f"{size:,} connections on one node" + (
                f" (--workers {workers}: {args.files_limit} open files per process)"
                if workers > 1 else "")
            results[f"connections_{size}"] = await _step(
                label, held_connections(lab, size, base, workers))
            if args.peer and size + FILES_SLACK <= args.files_limit:
                results[f"connections_{size}_{args.peer}"] = await _step(
                    f"{size:,} connections on {args.peer}",
                    held_by_peer(lab, args.peer, size, base))
    if "workers" in args.parts:
        config = replace(base, client_processes=2, subscribers=1000, throughput_secs=6.0)
        for workers in (1, 2, 2, 1):  # in turn: neither gets the warmer machine each time
            key = f"workers_{workers}" + ("_again" if f"workers_{workers}" in results else "")
            results[key] = await _step(f"--workers {workers}",
                                       with_workers(lab, workers, config))


async def _step(label: str, work: Any) -> dict[str, Any]:
    print(f"-- {label} ...", flush=True)
    started = time.monotonic()
    watcher = LoadWatcher()
    watcher.start()
    try:
        result: dict[str, Any] = await work
    except Exception as exc:  # one failed step must not lose the others' figures
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["load"] = await watcher.stop()
    print(f"   {label}: {json.dumps(result, default=str)} "
          f"({time.monotonic() - started:.1f} s)", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale",
                                description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="connections,workers",
                   help="comma-separated, from connections,workers")
    p.add_argument("--sizes", default="10000,20000",
                   help="connections held on one node, comma-separated")
    p.add_argument("--client-processes", type=int, default=4,
                   help="subscriber processes for the connection sizes")
    p.add_argument("--peer", default="picows", choices=("picows", "websockets", ""),
                   help="also hold each size on this reference server ('' for none)")
    p.add_argument("--rate", type=float, default=2.0,
                   help="fan-outs (POSTs) per second while the connections are held")
    p.add_argument("--secs", type=float, default=10.0, help="how long the fan-outs go on")
    p.add_argument("--redis-url", default=Config().redis_url,
                   help="Redis database for --workers (flushed at the end)")
    p.add_argument("--json", type=Path, help="also write every figure to this file")
    p.add_argument("--max-minutes", type=float, default=15.0,
                   help="stop (and clean up) after this long whatever happens")
    args = p.parse_args(argv)
    args.parts = {x.strip() for x in args.parts.split(",") if x.strip()}
    args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    args.files_limit = raise_open_files(max(args.sizes, default=0) + FILES_SLACK)
    print(f"open files limit: {args.files_limit}", flush=True)
    results: dict[str, Any] = {"command": " ".join(["python -m bench.scale",
                                                    *(argv or sys.argv[1:])])}
    started = time.monotonic()
    aborted = run_in_lab(lambda lab: run(lab, args, results), args.max_minutes * 60)
    if aborted:
        results["aborted"] = aborted
    results["elapsed_secs"] = round(time.monotonic() - started, 1)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 1 if "aborted" in results else 0


def render(results: dict[str, Any]) -> str:
    lines = ["| connections | RSS per connection | fan-out to all: p50 / p99 / max "
             "| missing | lost |", "|---:|---:|---:|---:|---:|"]
    for key, r in results.items():
        if key.startswith("connections_") and "error" not in r:
            shown = f"{r['connections']:,}" + (f" (--workers {r['workers']})"
                                               if r.get("workers") else "") + (
                f" {key.rsplit('_', 1)[1]}" if key.count("_") == 2 else " ImageChat")
            lines.append(f"| {shown} | {r['kib_per_connection']} KiB "
                         f"| {r.get('fanout_all_p50_ms')} / {r.get('fanout_all_p99_ms')} / "
                         f"{r.get('fanout_all_max_ms')} ms | {r.get('fanout_missing')} "
                         f"| {r.get('fanout_connections_lost')} |")
    rows = {k: r for k, r in results.items() if k.startswith("workers_") and "error" not in r}
    if rows:
        lines += ["", "| run | deliveries/s | writes/s | server CPU (deliveries, writes) |",
                  "|---|---:|---:|---:|"]
        for key, r in rows.items():
            d, w = r.get("deliveries", {}), r.get("writes", {})
            lines.append(f"| {key} | {d.get('deliveries_per_sec')} | {w.get('posts_per_sec')} "
                         f"| {d.get('cpu_percent', {}).get('server')} %, "
                         f"{w.get('server_cpu_percent')} % |")
        for figure, pick in (("deliveries/s", lambda r: r["deliveries"]["deliveries_per_sec"]),
                             ("writes/s", lambda r: r["writes"]["posts_per_sec"])):
            try:
                one = [pick(r) for k, r in rows.items() if k.startswith("workers_1")]
                two = [pick(r) for k, r in rows.items() if k.startswith("workers_2")]
                lines.append(f"{figure}: --workers 2 / one worker = "
                             f"{(sum(two) / len(two)) / (sum(one) / len(one)):.2f}x")
            except (KeyError, TypeError, ZeroDivisionError):
                continue
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
