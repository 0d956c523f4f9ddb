"""Live fan-out benchmark: ImageChat against `websockets.broadcast()` and python-socketio.

    .venv/bin/python -m bench.live_fanout            # full run (about 3-5 minutes)
    .venv/bin/python -m bench.live_fanout --quick    # smaller sizes (under 2 minutes)
    .venv/bin/python -m bench.live_fanout --scenarios throughput,wire --peers imagechat

Everything runs on 127.0.0.1. Every server and subscriber process is started here and
stopped here by PID; the PostgreSQL database of the multi-node run is created with a random
name and dropped, and only the chosen Redis database is flushed. Subscribers run in their own
processes, but on the same machine as the servers: with few cores, they take CPU from the
server they measure (the CPU use of each is reported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil

from bench import batching, latency, memory, throughput, wire
from bench.config import PEERS, SCENARIOS, Config
from bench.load import LoadWatcher
from bench.report import machine, render
from bench.servers import Lab, run_in_lab


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="python -m bench.live_fanout",
                                description="Live fan-out benchmark (issue 3, Performance).")
    p.add_argument("--quick", action="store_true", help="smaller sizes, shorter windows")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help=f"comma-separated, from {','.join(SCENARIOS)}")
    p.add_argument("--peers", default=",".join(PEERS),
                   help=f"comma-separated, from {','.join(PEERS)}")
    p.add_argument("--subscribers", type=int, help="subscribers for throughput and latency")
    p.add_argument("--client-processes", type=int, help="subscriber processes")
    p.add_argument("--throughput-secs", type=float, help="measuring window")
    p.add_argument("--window-events", type=int,
                   help="throughput: events in flight at most (undelivered)")
    p.add_argument("--post-workers", type=int,
                   help="throughput: concurrent POSTs driving ImageChat")
    p.add_argument("--events-per-post", type=int, choices=(1, 2),
                   help="ImageChat throughput: 2 = conversation with its first comment")
    p.add_argument("--latency-rate", type=float, help="events per second")
    p.add_argument("--latency-secs", type=float)
    p.add_argument("--no-two-nodes", action="store_true", help="skip PostgreSQL + Redis")
    p.add_argument("--no-fanout-only", action="store_true",
                   help="skip the steps that inject events through Redis (fan-out-only throughput, "
                        "batching at the full rate)")
    p.add_argument("--no-posts", action="store_true",
                   help="throughput: skip ImageChat's step with events from POSTs (keep the "
                        "fan-out-only step, the like-for-like one against the peers)")
    p.add_argument("--asgi", action="store_true",
                   help="also the fan-out-only step under plain uvicorn (the ASGI route)")
    p.add_argument("--no-pg-control", action="store_true",
                   help="skip the one-node PostgreSQL latency control")
    p.add_argument("--pg-url", help="PostgreSQL server (a scratch database is made on it)")
    p.add_argument("--redis-url", help="Redis database to use and flush at the end")
    p.add_argument("--idle-connections", type=int)
    p.add_argument("--batch-subscribers", type=int)
    p.add_argument("--batch-rate", type=float, help="events per second in the burst")
    p.add_argument("--batch-secs", type=float)
    p.add_argument("--baseline-src", type=Path,
                   help="also run every ImageChat step with the package in this source tree "
                        "(a checkout's src/, e.g. a git worktree of the commit before a "
                        "change), in the same run; results are named <name>_baseline")
    p.add_argument("--rerun-disturbed", type=float, metavar="PERCENT",
                   help="run an ImageChat step again (up to 4 attempts, the quietest kept) "
                        "while processes this run did not start used more than PERCENT %% "
                        "of a core during it")
    p.add_argument("--json", type=Path, help="also write every figure to this file")
    p.add_argument("--max-minutes", type=float, default=20.0,
                   help="stop (and clean up) after this long whatever happens")
    args = p.parse_args(argv)
    config = Config.quick() if args.quick else Config()
    config.scenarios = _choices(args.scenarios, SCENARIOS)
    config.peers = _choices(args.peers, PEERS)
    for name in ("subscribers", "client_processes", "throughput_secs", "window_events",
                 "post_workers", "events_per_post",
                 "latency_rate", "latency_secs", "pg_url", "redis_url", "idle_connections",
                 "batch_subscribers", "batch_rate", "batch_secs"):
        value = getattr(args, name)
        if value is not None:
            setattr(config, name, value)
    config.two_nodes = config.two_nodes and not args.no_two_nodes
    config.pg_control = config.pg_control and not args.no_pg_control
    config.fanout_only = config.fanout_only and not args.no_fanout_only
    config.posts = not args.no_posts
    config.asgi = args.asgi
    if args.rerun_disturbed:
        config.disturbed_percent = args.rerun_disturbed
    if args.baseline_src:
        if not (args.baseline_src / "imagechat" / "__init__.py").is_file():
            raise SystemExit(f"--baseline-src {args.baseline_src}: no imagechat package there")
        config.baseline_src = str(args.baseline_src.resolve())
    return config, args


def _choices(raw: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(x.strip() for x in raw.split(",") if x.strip())
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        raise SystemExit(f"unknown: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return chosen


# Before each step, wait (at most this long) for the machine to be this quiet: other work on
# a 2-core machine (tests, browsers) would otherwise be measured as our slowness.
QUIET_BUSY_PERCENT = 25.0


async def _wait_quiet(max_wait_secs: float) -> float:
    """Wait until all cores are less than QUIET_BUSY_PERCENT busy over one second (or give
    up after `max_wait_secs`); returns the last reading."""
    deadline = time.monotonic() + max_wait_secs
    while True:
        psutil.cpu_percent(None)
        await asyncio.sleep(1.0)
        busy = float(psutil.cpu_percent(None))
        if busy < QUIET_BUSY_PERCENT or time.monotonic() > deadline:
            return busy


async def _step(label: str, work: Awaitable[dict[str, Any]],
                max_quiet_wait: float) -> dict[str, Any]:
    busy = await _wait_quiet(max_quiet_wait)
    print(f"-- {label} (machine {busy:.0f}% busy before) ...", flush=True)
    started = time.monotonic()
    watcher = LoadWatcher()
    watcher.start()
    try:
        result = await work
    except Exception as exc:  # one failed step must not lose the others' figures
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["machine_busy_before"] = busy
    result["load"] = await watcher.stop()
    print(f"   {label}: {json.dumps(result, default=str)} "
          f"({time.monotonic() - started:.1f} s)", flush=True)
    return result


async def run(lab: Lab, config: Config, results: dict[str, Any]) -> None:
    def step(label: str, work: Awaitable[dict[str, Any]]) -> Awaitable[dict[str, Any]]:
        return _step(label, work, config.quiet_max_wait_secs)

    variants: list[tuple[str, str | None]] = [("", None)]
    if config.baseline_src:
        variants.append(("_baseline", config.baseline_src))
    pairs = 0

    async def ours(part: dict[str, Any], name: str, label: str,
                   work: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """An ImageChat step, and the same step on the baseline right before or after it
        (in turn: neither always gets the warmer or the quieter machine)."""
        nonlocal pairs
        pairs += 1
        for suffix, src in variants if pairs % 2 else variants[::-1]:
            with lab.from_source(src):
                part[name + suffix] = await quietest(label + (" (baseline)" if src else ""),
                                                     work)

    async def quietest(label: str,
                       work: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """The step, run again while other work disturbed it (`--rerun-disturbed`)."""
        best: dict[str, Any] = {}
        attempts = config.disturbed_attempts if config.disturbed_percent else 1
        for attempt in range(1, attempts + 1):
            result = await step(label if attempt == 1 else f"{label}, attempt {attempt}",
                                work())
            result["attempt"] = attempt  # which attempt this is (the quietest is kept)
            others = _others_percent(result)
            if not best or others < _others_percent(best):
                best = result
            if others <= config.disturbed_percent:
                break
        return best

    mine = "imagechat" in config.peers
    if "throughput" in config.scenarios:
        part = results["throughput"] = {}
        for kind in config.peers:
            if kind == "imagechat":
                if config.posts:
                    await ours(part, kind, f"deliveries/s {kind}", lambda: (
                        throughput.deliveries_per_second(lab, "imagechat", config)))
            else:
                part[kind] = await step(f"deliveries/s {kind}",
                                        throughput.deliveries_per_second(lab, kind, config))
        if mine and config.fanout_only:
            await ours(part, "imagechat_fanout_only",
                       "deliveries/s imagechat, fan-out only (events injected into Redis)",
                       lambda: throughput.fanout_only(lab, config))
        if mine and config.fanout_only and config.asgi:
            await ours(part, "imagechat_asgi_fanout_only",
                       "deliveries/s imagechat under plain uvicorn (the ASGI route), fan-out only",
                       lambda: throughput.fanout_only(lab, config, asgi=True))
    if "latency" in config.scenarios:
        part = results["latency"] = {}
        for kind in config.peers:
            if kind == "imagechat":
                await ours(part, kind, f"latency {kind}",
                           lambda: latency.one_node(lab, "imagechat", config))
            else:
                part[kind] = await step(f"latency {kind}", latency.one_node(lab, kind, config))
        if mine and config.pg_control:
            await ours(part, "imagechat_postgres", "latency imagechat, 1 node on PostgreSQL",
                       lambda: latency.one_node_postgres(lab, config))
        if mine and config.two_nodes:
            await ours(part, "imagechat_2_nodes", "latency imagechat, 2 nodes via Redis",
                       lambda: latency.two_nodes(lab, config))
    if "memory" in config.scenarios:
        part = results["memory"] = {}
        for kind in config.peers:
            if kind == "imagechat":
                await ours(part, kind, f"RSS per idle connection {kind}",
                           lambda: memory.rss_per_idle_connection(lab, "imagechat", config))
            else:
                part[kind] = await step(f"RSS per idle connection {kind}",
                                        memory.rss_per_idle_connection(lab, kind, config))
    if "wire" in config.scenarios:
        results["wire"] = await step("frame size", wire.frame_size(lab, config))
    if "batching" in config.scenarios:
        results["batching"] = await step("batching burst from POSTs",
                                         batching.burst(lab, config))
        if config.fanout_only:
            results["batching_injected"] = await step(
                "batching burst injected into Redis", batching.burst_injected(lab, config))


def _others_percent(result: dict[str, Any]) -> float:
    """CPU that processes this run did not start used during a step, in % of one core."""
    return float((result.get("load") or {}).get("others_cpu_mean", 0.0))


def main(argv: list[str] | None = None) -> int:
    config, args = parse_args(argv)
    results: dict[str, Any] = {"command": " ".join(["python -m bench.live_fanout",
                                                    *(argv or sys.argv[1:])]),
                               "machine": machine(), "config": asdict(config)}
    print(f"machine: {json.dumps(results['machine'])}")
    print(f"note: servers and subscriber processes share these {results['machine']['nproc']} "
          "cores; figures are lower bounds of what a server alone could do.", flush=True)
    started = time.monotonic()
    try:
        aborted = run_in_lab(lambda lab: run(lab, config, results), args.max_minutes * 60)
    finally:
        for child in multiprocessing.active_children():
            child.terminate()
            child.join(5)
    if aborted:
        results["aborted"] = aborted
        print(f"aborted: {aborted}", file=sys.stderr)
    results["elapsed_secs"] = round(time.monotonic() - started, 1)
    print(render(results))
    print(f"\nelapsed: {results['elapsed_secs']} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=_json_default))
    return 1 if "aborted" in results else 0


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
