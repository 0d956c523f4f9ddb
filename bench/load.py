"""Who else used the CPU while a step ran: this machine is shared, and with two cores any
other work (tests, browsers) shows up as our slowness. Every step reports it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from typing import Any

import psutil

SAMPLE_SECS = 0.5


class LoadWatcher:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._busy: list[float] = []
        self._others: list[float] = []
        self._by_name: Counter[str] = Counter()
        self._samples = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self._busy:
            return {}
        n = max(self._samples, 1)  # names' CPU summed over samples, shown as a mean
        return {
            "machine_busy_mean": round(sum(self._busy) / len(self._busy), 1),
            "machine_busy_max": round(max(self._busy), 1),
            # CPU of processes this run did not start, in % of one core.
            "others_cpu_mean": round(sum(self._others) / len(self._others), 1),
            "others_cpu_max": round(max(self._others), 1),
            "others_top": {k: round(v / n, 1) for k, v in self._by_name.most_common(3)},
        }

    async def _run(self) -> None:
        me = psutil.Process(os.getpid())
        last: dict[int, float] = {}
        psutil.cpu_percent(None)
        previous = time.monotonic()
        while True:
            await asyncio.sleep(SAMPLE_SECS)
            # The loop may have been blocked longer (a server start waits synchronously).
            now_t = time.monotonic()
            elapsed, previous = now_t - previous, now_t
            ours = {me.pid, *(p.pid for p in me.children(recursive=True))}
            now: dict[int, float] = {}
            names: dict[int, str] = {}
            for proc in psutil.process_iter(["name", "cpu_times"]):
                times = proc.info["cpu_times"]
                if times is not None:
                    now[proc.pid] = times.user + times.system
                    names[proc.pid] = proc.info["name"] or "?"
            if last:
                others = 0.0
                for pid, used in now.items():
                    if pid in ours:
                        continue
                    delta = 100 * (used - last.get(pid, used)) / elapsed
                    others += delta
                    self._by_name[names[pid]] += delta
                self._others.append(others)
                self._busy.append(float(psutil.cpu_percent(None)))
                self._samples += 1
            last = now
