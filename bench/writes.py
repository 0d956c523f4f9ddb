"""Writes per second per core through the REST API (issue 16): one `imagechat serve` on
SQLite, `POST /comment-image-chats/demo` from a few concurrent clients for a fixed window.

    .venv/bin/python -m bench.writes                        # this tree
    .venv/bin/python -m bench.writes --baseline-src DIR     # also DIR's package, in turn
    .venv/bin/python -m bench.writes --profile /tmp/w.txt   # py-spy: where the time goes

Figures: POSTs/s, the server's CPU (% of one core, user + system), server CPU per POST, and
POSTs/s per core (= POSTs/s / the server's share of a core). With `--with-comment` each
POST also carries the conversation's first comment (the widget's one-request create).
Everything runs on 127.0.0.1; the server is started here and stopped by PID; each run
uses a fresh temporary SQLite file. Nobody subscribes: this is the write path alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.config import Config
from bench.load import LoadWatcher
from bench.peers import CpuMeter
from bench.publishers import PostPublisher
from bench.servers import Lab, run_in_lab


async def measure(lab: Lab, *, with_comment: bool, concurrency: int, warmup_secs: float,
                  window_secs: float, profile: Path | None, redis_url: str = "",
                  workers: int = 1) -> dict[str, Any]:
    server = lab.imagechat(lab.sqlite_url(), redis_url=redis_url, workers=workers)
    publisher = PostPublisher(server.base_url, Config().url_id("writes"),
                              with_comment=with_comment, connections=concurrency)
    counting = False
    posts = 0
    stop = False

    async def worker() -> None:
        nonlocal posts
        while not stop:
            await publisher.publish(str(uuid.uuid4()))
            if counting:
                posts += 1

    watcher = LoadWatcher()
    watcher.start()
    spy = None
    try:
        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await asyncio.sleep(warmup_secs)
        if profile is not None:
            spy = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                str(server.pid), "--duration", str(int(window_secs)), "--rate", "250",
                "--format", "raw", "--nonblocking", "--output", str(profile),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu = CpuMeter({"server": server.pid, "bench": os.getpid()})
        cpu.start()
        counting, t0 = True, time.monotonic()
        await asyncio.sleep(window_secs)
        counting, elapsed = False, time.monotonic() - t0
        usage = cpu.percent(elapsed)
        stop = True
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        if spy is not None:
            await asyncio.wait_for(spy.wait(), window_secs + 30)
        rate = posts / elapsed
        server_cpu = usage["server"] / 100
        return {
            "posts_per_sec": round(rate, 1),
            "server_cpu_percent": usage["server"],
            "server_user_percent": usage["server_user"],
            "bench_client_cpu_percent": usage["bench"],
            "server_cpu_ms_per_post": round(server_cpu / rate * 1000, 3) if rate else None,
            "posts_per_sec_per_core": round(rate / server_cpu, 1) if server_cpu else None,
            "failures": publisher.failures,
            "load": await watcher.stop(),
        }
    finally:
        stop = True
        if spy is not None and spy.returncode is None:
            spy.terminate()
        await publisher.close()
        lab.stop(server)


def summarize_profile(path: Path, top: int = 40) -> str:
    """Self and inclusive sample shares per function, from py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples", "-- self --"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["-- inclusive --"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__.splitlines()[0])
    p.add_argument("--with-comment", action="store_true",
                   help="each POST also creates the conversation's first comment")
    p.add_argument("--concurrency", type=int, default=8, help="POSTs in flight")
    p.add_argument("--warmup-secs", type=float, default=2.0)
    p.add_argument("--secs", type=float, default=8.0, help="measuring window")
    p.add_argument("--rounds", type=int, default=2,
                   help="windows per tree (with --baseline-src: alternating, ABAB...)")
    p.add_argument("--baseline-src", type=Path,
                   help="also measure the package in this source tree (a checkout's src/)")
    p.add_argument("--profile", type=Path,
                   help="record the server with py-spy during the first window of this "
                        "tree (raw collapsed stacks); a summary is printed")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    variants: list[tuple[str, str | None]] = [("this tree", None)]
    if args.baseline_src:
        if not (args.baseline_src / "imagechat" / "__init__.py").is_file():
            raise SystemExit(f"--baseline-src {args.baseline_src}: no imagechat package there")
        variants.append(("baseline", str(args.baseline_src.resolve())))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    async def run(lab: Lab) -> None:
        for round_no in range(args.rounds):
            order = variants if round_no % 2 == 0 else variants[::-1]
            for name, src in order:
                profile = args.profile if (src is None and round_no == 0) else None
                with lab.from_source(src):
                    result = await measure(lab, with_comment=args.with_comment,
                                           concurrency=args.concurrency,
                                           warmup_secs=args.warmup_secs,
                                           window_secs=args.secs, profile=profile)
                results[name].append(result)
                print(f"{name}: {json.dumps(result)}", flush=True)

    aborted = run_in_lab(run, 30 * 60)
    if aborted:
        print(f"aborted: {aborted}", file=sys.stderr)
    print(report(results))
    if args.profile is not None and args.profile.is_file():
        with contextlib.suppress(OSError, ValueError):
            print(summarize_profile(args.profile))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if aborted else 0


def report(results: dict[str, list[dict[str, Any]]]) -> str:
    """The median window of each tree, and this tree's ratio to the baseline."""
    def median(rows: list[dict[str, Any]], key: str) -> float:
        values = sorted(float(r[key]) for r in rows if r.get(key) is not None)
        return values[len(values) // 2] if values else float("nan")

    lines = ["| tree | POSTs/s | server CPU | CPU per POST | POSTs/s per core |",
             "|---|---:|---:|---:|---:|"]
    medians = {}
    for name, rows in results.items():
        m = {k: median(rows, k) for k in ("posts_per_sec", "server_cpu_percent",
                                          "server_cpu_ms_per_post", "posts_per_sec_per_core")}
        medians[name] = m
        lines.append(f"| {name} | {m['posts_per_sec']:,.0f} | {m['server_cpu_percent']:.0f} % "
                     f"| {m['server_cpu_ms_per_post']:.3f} ms "
                     f"| {m['posts_per_sec_per_core']:,.0f} |")
    if "baseline" in medians:
        ours, base = medians["this tree"], medians["baseline"]
        lines.append(f"\nPOSTs/s per core, this tree / baseline: "
                     f"{ours['posts_per_sec_per_core'] / base['posts_per_sec_per_core']:.2f}x"
                     " (medians)")
        # Each round ran the two back to back: their ratio shares the machine's mood.
        pairs = [a["server_cpu_ms_per_post"] and b["server_cpu_ms_per_post"]
                 and b["server_cpu_ms_per_post"] / a["server_cpu_ms_per_post"]
                 for a, b in zip(results["this tree"], results["baseline"], strict=False)]
        lines.append("per round (baseline CPU per POST / this tree's): "
                     + ", ".join(f"{r:.2f}x" for r in pairs if r))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
