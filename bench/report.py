"""The figures of a run, their ratios, and the issue's targets next to them."""

from __future__ import annotations

import math
import os
import platform
import sys
from importlib import metadata
from typing import Any

from bench.stats import ratio

# Issue 3, "Performance".
TARGET_VS_WEBSOCKETS = 1.0
TARGET_VS_SOCKETIO = 6.0
TARGET_P99_ONE_NODE_MS = 25.0
TARGET_TWO_NODE_EXTRA_MS = 5.0
TARGET_KIB_PER_CONNECTION = 16.0
TARGET_FRAME_BYTES = 350
TARGET_BATCH_FRAMES_PER_SEC = 30


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for name in ("imagechat", "uvicorn", "uvloop", "websockets", "python-socketio",
                 "python-engineio", "aiohttp", "picows"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"nproc": os.cpu_count(), "cpu": model, "python": sys.version.split()[0],
            "platform": platform.platform(), "load_average": os.getloadavg(),
            "versions": versions}


def _get(results: dict[str, Any], *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, measured, target, verdict) for each of the issue's targets."""
    rows: list[tuple[str, str, str, str]] = []
    for variant, label in (("imagechat", "events from POSTs"),
                           ("imagechat_fanout_only", "fan-out only, events via Redis")):
        ours = _get(results, "throughput", variant, "deliveries_per_sec")
        for peer, goal in (("websockets", TARGET_VS_WEBSOCKETS),
                           ("socketio", TARGET_VS_SOCKETIO)):
            r = ratio(ours, _get(results, "throughput", peer, "deliveries_per_sec"))
            rows.append((f"deliveries/s vs {peer} ({label})", "—" if r is None else f"{r}x",
                         f"≥ {goal}x", _verdict(None if r is None else r >= goal)))
    one = _get(results, "latency", "imagechat", "all_p99_ms")
    rows.append(("p99 POST → all subscribers, 1 node", _ms(one),
                 f"≤ {TARGET_P99_ONE_NODE_MS:g} ms",
                 _verdict(None if _nan(one) else one <= TARGET_P99_ONE_NODE_MS)))
    two = _get(results, "latency", "imagechat_2_nodes", "all_p99_ms")
    extra = None if _nan(one) or _nan(two) else round(two - one, 1)
    rows.append(("p99 two nodes minus one node", _ms(extra),
                 f"≤ +{TARGET_TWO_NODE_EXTRA_MS:g} ms",
                 _verdict(None if extra is None else extra <= TARGET_TWO_NODE_EXTRA_MS)))
    pg = _get(results, "latency", "imagechat_postgres", "all_p99_ms")
    if not _nan(pg):
        extra_pg = None if _nan(two) else round(two - pg, 1)
        rows.append(("p99 two nodes minus one node on PostgreSQL", _ms(extra_pg),
                     f"≤ +{TARGET_TWO_NODE_EXTRA_MS:g} ms", _verdict(
                         None if extra_pg is None else extra_pg <= TARGET_TWO_NODE_EXTRA_MS)))
    kib = _get(results, "memory", "imagechat", "kib_per_connection")
    rows.append(("RSS per idle connection", "—" if kib is None else f"{kib} KiB",
                 f"≤ {TARGET_KIB_PER_CONNECTION:g} KiB",
                 _verdict(None if kib is None else kib <= TARGET_KIB_PER_CONNECTION)))
    size = _get(results, "wire", "new-image-chat", "frame_bytes")
    rows.append(("new-image-chat frame", "—" if size is None else f"{size} B",
                 f"≤ {TARGET_FRAME_BYTES} B",
                 _verdict(None if size is None else size <= TARGET_FRAME_BYTES)))
    for key, label in (("batching", "from POSTs"), ("batching_injected", "via Redis")):
        batch = results.get(key) or {}
        if not batch:
            continue
        mean = batch.get("frames_per_sec_mean")
        peak = batch.get("frames_per_sec_peak_1s_window")
        rate = batch.get("achieved_events_per_sec")
        shown = ("—" if mean is None
                 else f"{mean} mean, peak {peak} in a 1 s window, at {rate} events/s")
        rows.append((f"batching ({label}): frames/s per client", shown,
                     f"≤ {TARGET_BATCH_FRAMES_PER_SEC}",
                     _verdict(None if mean is None else mean <= TARGET_BATCH_FRAMES_PER_SEC)))
        every = (batch.get("clients_with_every_event_in_order") == batch.get("subscribers")
                 and batch.get("events", 0) > 0)
        rows.append((f"batching ({label}): every event delivered, in order",
                     f"{batch.get('clients_with_every_event_in_order')}"
                     f"/{batch.get('subscribers')} clients, {batch.get('events')} events",
                     "all", _verdict(None if "error" in batch else every)))
    return rows


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ms(value: Any) -> str:
    return "—" if _nan(value) else f"{value} ms"


def figures(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The main figures, one line each, for the console."""
    lines: list[tuple[str, str]] = []
    for peer, r in (results.get("throughput") or {}).items():
        if "error" in r:
            lines.append((f"deliveries/s {peer}", f"error: {r['error']}"))
            continue
        lines.append((f"deliveries/s {peer}",
                      f"{r['deliveries_per_sec']:,} ({r['events_per_sec']} events/s x "
                      f"{r['subscribers']}; server CPU {r['server_cpu_us_per_delivery']} us "
                      f"per delivery; cpu% {r['cpu_percent']})"))
    for variant in ("imagechat", "imagechat_fanout_only", "imagechat_asgi_fanout_only"):
        ours = _get(results, "throughput", variant, "deliveries_per_sec")
        cpu = _get(results, "throughput", variant, "server_cpu_us_per_delivery")
        for peer in ("websockets", "socketio", "picows"):
            r = ratio(ours, _get(results, "throughput", peer, "deliveries_per_sec"))
            if r is not None:
                lines.append((f"ratio {variant}/{peer}", f"{r}x"))
            c = ratio(_get(results, "throughput", peer, "server_cpu_us_per_delivery"), cpu)
            if c is not None:
                lines.append((f"CPU per delivery {peer}/{variant}", f"{c}x"))
    for name, r in (results.get("latency") or {}).items():
        if "error" in r:
            lines.append((f"latency {name}", f"error: {r['error']}"))
            continue
        lines.append((f"latency {name}",
                      f"to all p50 {r['all_p50_ms']} ms, p99 {r['all_p99_ms']} ms, max "
                      f"{r['all_max_ms']} ms; each p50 {r['each_p50_ms']} ms, p99 "
                      f"{r['each_p99_ms']} ms; missing {r['missing']}"))
    for peer, r in (results.get("memory") or {}).items():
        if "error" in r:
            lines.append((f"RSS {peer}", f"error: {r['error']}"))
            continue
        lines.append((f"RSS/idle conn {peer}",
                      f"{r['kib_per_connection']} KiB ({r['connections']} conns, "
                      f"{r['rss_before_mib']} → {r['rss_after_mib']} MiB)"))
    wire = results.get("wire") or {}
    for kind in ("new-image-chat", "new-comment"):
        if kind in wire:
            w = wire[kind]
            lines.append((f"frame {kind}", f"{w['frame_bytes']} B = {w['header_bytes']} "
                          f"header + {w['payload_bytes']} payload"))
    for key in ("batching", "batching_injected"):
        batch = results.get(key) or {}
        if batch:
            lines.append((key, ", ".join(f"{k} {v}" for k, v in batch.items())))
    return lines


# (scenario, field, what it is) compared between a tree and its baseline; for deliveries
# a ratio above 1 is better, for the others below 1.
BASELINE_FIGURES = (
    ("throughput", "deliveries_per_sec", "deliveries/s"),
    ("throughput", "server_cpu_us_per_delivery", "server CPU µs per delivery"),
    ("latency", "all_p50_ms", "to all p50 ms"),
    ("latency", "all_p99_ms", "to all p99 ms"),
    ("latency", "each_p50_ms", "each p50 ms"),
    ("latency", "each_p99_ms", "each p99 ms"),
    ("memory", "kib_per_connection", "KiB per idle connection"),
)


def against_baseline(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, baseline, this tree, this tree / baseline) of each step run on both."""
    rows: list[tuple[str, str, str, str]] = []
    for scenario, field, label in BASELINE_FIGURES:
        for name in results.get(scenario) or {}:
            if not name.endswith("_baseline"):
                continue
            current = name.removesuffix("_baseline")
            before = _get(results, scenario, name, field)
            after = _get(results, scenario, current, field)
            r = ratio(after, before)
            rows.append((f"{current}: {label}", "—" if before is None else f"{before}",
                         "—" if after is None else f"{after}", "—" if r is None else f"{r}x"))
    return rows


def render(results: dict[str, Any]) -> str:
    out = ["", "== figures =="]
    width = max((len(k) for k, _ in figures(results)), default=10)
    out += [f"{k:<{width}}  {v}" for k, v in figures(results)]
    compared = against_baseline(results)
    if compared:
        out += ["", "== against the baseline (same run) ==",
                "| figure | baseline | this tree | this / baseline |", "|---|---:|---:|---:|"]
        out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in compared]
    out += ["", "== targets (issue 3) ==", "| what | measured | target | verdict |",
            "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(results)]
    return "\n".join(out)
