"""Subscriber processes: many WebSocket connections per process, driven from the main process.

Each process opens `count` connections, keeps live counters in shared memory (so the main
process can pace a publisher on deliveries without asking), and answers two commands over
a pipe: `report` (what it collected, depending on the mode) and `close`.

Modes:
- `count`: count event frames only (throughput, idle connections);
- `ids`:   arrival time (time.time()) of every `new-image-chat` event, by its id;
- `batch`: arrival time of every frame and the `seq` of every event it held, per connection;
- `wire`:  header and payload size of every event frame (first connection only).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import sys
from collections import defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import orjson

from bench.wsclient import FrameSink, Subscriber, handshake_request

# Slots of each process's shared counters (EVENTS: events with a seq, batch mode only).
OPENED, READY, FRAMES, LOST, FAILED, EVENTS = range(6)
# How often the frame counter in shared memory is refreshed; the throughput publisher's
# feedback loop runs on it.
COUNTER_REFRESH_SECS = 0.005
CONNECT_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class ClientSpec:
    host: str
    port: int
    target: str  # request target; "{i}" becomes the connection's global index
    count: int
    first_index: int = 0
    protocol: str = "ws"  # "ws" or "socketio"
    mode: str = "count"
    connect_concurrency: int = 64
    connect_timeout_secs: float = 60.0


class Collector:
    """Turns event frames into what the mode reports; one per process."""

    def __init__(self, mode: str, socketio: bool) -> None:
        self.mode = mode
        self.socketio = socketio
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.frame_times: dict[int, list[float]] = defaultdict(list)
        self.seqs: dict[int, list[int]] = defaultdict(list)
        # Per frame: how long its oldest event waited, from the event's own `timestamp`.
        self.waits: list[float] = []
        self.events = 0
        self.payloads: list[bytes] = []

    def sink(self) -> FrameSink | None:
        if self.mode == "ids":
            return self._on_id
        if self.mode == "batch":
            return self._on_batch
        if self.mode == "wire":
            return self._on_wire
        return None

    def _event(self, payload: bytes) -> Any:
        if self.socketio:
            return orjson.loads(payload[2:])[1]
        return orjson.loads(payload)

    def _on_id(self, conn: Subscriber, now: float, payload: bytes) -> None:
        event = self._event(payload)
        if isinstance(event, dict) and event.get("type") == "new-image-chat":
            key = event.get("broadcastId") or event.get("id")
            if key:
                self.arrivals[key].append(now)

    def _on_batch(self, conn: Subscriber, now: float, payload: bytes) -> None:
        event = self._event(payload)
        events = event if isinstance(event, list) else [event]
        logged = [e for e in events if isinstance(e, dict) and "seq" in e]
        if logged:  # presence-only frames are not part of the burst
            self.frame_times[conn.index].append(now)
            self.seqs[conn.index].extend(e["seq"] for e in logged)
            self.waits.append(now - min(e["timestamp"] for e in logged) / 1000)
            self.events += len(logged)

    def _on_wire(self, conn: Subscriber, now: float, payload: bytes) -> None:
        if conn.index == 0 or not self.payloads:
            self.payloads.append(payload)

    def reset(self) -> None:
        self.arrivals.clear()
        self.frame_times.clear()
        self.seqs.clear()
        self.waits.clear()
        self.events = 0
        self.payloads.clear()


def raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def client_process(spec: ClientSpec, shared: Any, pipe: Connection) -> None:
    """Entry point of a subscriber process (multiprocessing target)."""
    raise_open_files(spec.count + 256)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.Runner()
    with runner:
        runner.run(_run(spec, shared, pipe))


async def _run(spec: ClientSpec, shared: Any, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    socketio = spec.protocol == "socketio"
    collector = Collector(spec.mode, socketio)
    sink = collector.sink()
    wire: list[tuple[int, int]] = []
    subs: list[Subscriber] = []
    closing = False
    done = asyncio.Event()
    limit = asyncio.Semaphore(spec.connect_concurrency)

    def on_ready(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            shared[READY] += 1

    async def connect(index: int) -> None:
        target = spec.target.replace("{i}", str(index))
        request = handshake_request(spec.host, spec.port, target)
        for attempt in range(CONNECT_ATTEMPTS):
            async with limit:
                try:
                    _, sub = await loop.create_connection(
                        lambda: Subscriber(index, request, socketio, sink,
                                           wire=wire if spec.mode == "wire" else None),
                        spec.host, spec.port)
                    await asyncio.wait_for(asyncio.shield(sub.opened),
                                           spec.connect_timeout_secs)
                except (OSError, TimeoutError, ConnectionError) as exc:
                    if attempt == CONNECT_ATTEMPTS - 1:
                        shared[FAILED] += 1
                        print(f"bench client: connection {index} failed: {exc}",
                              file=sys.stderr)
                        return
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
            subs.append(sub)
            shared[OPENED] += 1
            sub.ready.add_done_callback(on_ready)
            return

    async def refresh() -> None:
        # Commands are polled, not watched with add_reader: the event loop would make the
        # pipe non-blocking, and a large report would then fail to send.
        while not done.is_set():
            shared[FRAMES] = sum(s.frames for s in subs)
            shared[EVENTS] = collector.events
            if not closing:
                shared[LOST] = sum(1 for s in subs if s.transport is None)
            if pipe.poll():
                on_command()
            await asyncio.sleep(COUNTER_REFRESH_SECS)

    def on_command() -> None:
        nonlocal closing
        while pipe.poll():
            command = pipe.recv()
            if command == "report":
                pipe.send(_report(collector, subs, wire))
            elif command == "reset":
                collector.reset()
                pipe.send("ok")
            elif command == "close":
                closing = True
                for sub in subs:
                    sub.close()
                done.set()

    refresher = asyncio.create_task(refresh())
    connecting = asyncio.gather(*(connect(spec.first_index + i) for i in range(spec.count)))
    await done.wait()
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connecting
    await refresher
    await asyncio.sleep(0.2)  # let close frames leave
    pipe.send("closed")


def _report(collector: Collector, subs: list[Subscriber],
            wire: list[tuple[int, int]]) -> dict[str, Any]:
    report: dict[str, Any] = {"frames": [s.frames for s in subs]}
    if collector.mode == "ids":
        report["arrivals"] = dict(collector.arrivals)
    elif collector.mode == "batch":
        report["conns"] = [(collector.frame_times.get(s.index, []), collector.seqs.get(s.index, []))
                           for s in subs]
        report["waits"] = list(collector.waits)
    elif collector.mode == "wire":
        report["wire"] = list(wire)
        report["payloads"] = list(collector.payloads)
    return report


class ClientPool:
    """Subscriber processes started from the main process and stopped by it (by PID)."""

    def __init__(self, specs: list[ClientSpec]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.specs = specs
        self.shared = [ctx.RawArray("q", 6) for _ in specs]
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for spec, shared in zip(specs, self.shared, strict=True):
            ours, theirs = ctx.Pipe()
            process = ctx.Process(target=client_process, args=(spec, shared, theirs),
                                  daemon=True, name="bench-client")
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    @property
    def count(self) -> int:
        return sum(spec.count for spec in self.specs)

    def total(self, slot: int) -> int:
        return sum(int(shared[slot]) for shared in self.shared)

    async def wait_ready(self, limit_secs: float, *, need_frame: bool = True) -> None:
        """Until every connection is open (and has had its first event, if `need_frame`)."""
        slot = READY if need_frame else OPENED
        deadline = asyncio.get_running_loop().time() + limit_secs
        while self.total(slot) + self.total(FAILED) < self.count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"only {self.total(slot)} of {self.count} subscribers ready "
                                   f"({self.total(OPENED)} open, {self.total(FAILED)} failed)")
            if not all(p.is_alive() for p in self.processes):
                raise RuntimeError("a subscriber process died")
            await asyncio.sleep(0.05)
        if self.total(FAILED):
            raise RuntimeError(f"{self.total(FAILED)} subscriber connections failed")

    def _ask(self, command: str, timeout: float = 60.0) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"subscriber process did not answer {command!r}")
            answers.append(pipe.recv())
        return answers

    def report(self) -> list[dict[str, Any]]:
        return self._ask("report")

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        """Close every connection, then make sure each process is gone (by PID)."""
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(OSError, BrokenPipeError):
                    pipe.send("close")
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            with contextlib.suppress(OSError, EOFError):
                if pipe.poll(10):
                    pipe.recv()
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
            pipe.close()
