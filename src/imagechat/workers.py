"""`imagechat serve --workers N`: N nodes in N processes, on one port.

Each worker is a whole node (docs/glossary.md): its own hub, database pool and broker
connection, listening on the same address with SO_REUSEPORT, so that the kernel spreads
new connections over the workers. They share the database (PostgreSQL, or one SQLite file:
its writers take turns, see `store/database.py`) and the Redis broker, as separate nodes
do. With the in-process broker a worker would send live events only to its own clients,
so more than one worker without `IMAGECHAT_REDIS_URL` is refused (`check`).

This process, the supervisor, serves nothing itself. It starts the first worker and waits
until it is up (it migrates the schema, so the others find it current), then the others.
It starts a worker again when one dies, after a pause that grows while workers keep dying
young. On SIGTERM or SIGINT it passes SIGTERM on and waits: each worker closes its live
connections with 1001 and finishes its requests, as a node does.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from imagechat.settings import Settings

log = logging.getLogger("imagechat")

# How long the first worker may take to start (its migrations included).
FIRST_START_TIMEOUT_SECS = 120.0
# How long workers may take to finish their requests and close their connections.
STOP_TIMEOUT_SECS = 30.0
# A worker that dies sooner than this after its start died young: the next start waits,
# twice as long each time, up to the most.
YOUNG_SECS = 5.0
RESTART_PAUSE_SECS = 0.5
RESTART_PAUSE_MAX_SECS = 10.0


def check(settings: Settings) -> None:
    """Raise ValueError, with the reason, when `settings.workers` workers cannot run."""
    count = settings.workers
    if count <= 1:
        return
    if not settings.redis_url:
        raise ValueError(
            f"--workers {count} needs a shared broker: set IMAGECHAT_REDIS_URL (or "
            "--redis-url) to a Redis every worker reaches. With the in-process broker each "
            "worker would send live events only to its own clients.")
    database = make_url(settings.database_url).database
    if settings.database_url.startswith("sqlite") and database in (None, "", ":memory:"):
        raise ValueError(f"--workers {count} needs a database they share: an SQLite file "
                         "or PostgreSQL, not an in-memory SQLite database.")
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("--workers needs SO_REUSEPORT, which this system does not offer; "
                         "run one `imagechat serve` per port instead.")


def run(settings: Settings, options: dict[str, Any]) -> int:
    """Supervise `settings.workers` workers until SIGTERM or SIGINT; the exit status."""
    check(settings)
    if not settings.session_secret.get_secret_value():
        # One key for every worker, or a dashboard session would hold on one worker only.
        settings = settings.model_copy(
            update={"session_secret": SecretStr(secrets.token_urlsafe(32))})
    return Supervisor(settings, options).run()


@dataclass
class Worker:
    index: int
    process: SpawnProcess
    started: Event
    started_at: float
    pause: float = 0.0  # before its next start, after an early death
    restart_at: float | None = None


class Supervisor:
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        self.context: SpawnContext = multiprocessing.get_context("spawn")
        self.workers: list[Worker] = []
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        first = self._start(0, migrate=self.settings.migrate_on_start)
        deadline = time.monotonic() + FIRST_START_TIMEOUT_SECS
        while not first.started.wait(0.2):
            if self.stopping or not first.process.is_alive() or time.monotonic() > deadline:
                self._stop_all()
                if self.stopping:
                    return 0
                log.error("worker 1 did not start (exit status %s); see its output above",
                          first.process.exitcode)
                return first.process.exitcode or 1
        for index in range(1, self.settings.workers):
            self._start(index, migrate=False)
        while not self.stopping:
            self._watch()
        self._stop_all()
        return 0

    def _start(self, index: int, *, migrate: bool) -> Worker:
        settings = self.settings.model_copy(update={"migrate_on_start": migrate})
        started = self.context.Event()
        process = self.context.Process(target=serve_worker, name=f"imagechat-worker-{index + 1}",
                                       args=(settings, self.options, started), daemon=False)
        process.start()
        log.info("worker %d started (pid %d)", index + 1, process.pid)
        worker = Worker(index, process, started, time.monotonic())
        if index < len(self.workers):
            worker.pause = self.workers[index].pause
            self.workers[index] = worker
        else:
            self.workers.append(worker)
        return worker

    def _watch(self) -> None:
        """Wait a moment for a worker to die; start again those whose pause is over."""
        running = [w.process.sentinel for w in self.workers if w.restart_at is None]
        if running:
            wait(running, timeout=0.5)
        else:
            time.sleep(0.1)
        now = time.monotonic()
        for worker in list(self.workers):
            if self.stopping:
                return
            if worker.restart_at is None and not worker.process.is_alive():
                young = now - worker.started_at < YOUNG_SECS
                worker.pause = min(max(worker.pause * 2, RESTART_PAUSE_SECS),
                                   RESTART_PAUSE_MAX_SECS) if young else 0.0
                worker.restart_at = now + worker.pause
                log.warning("worker %d (pid %d) exited with status %s; starting it again%s",
                            worker.index + 1, worker.process.pid, worker.process.exitcode,
                            f" in {worker.pause:g} s" if worker.pause else "")
            if worker.restart_at is not None and now >= worker.restart_at:
                self._start(worker.index, migrate=False)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        alive = [w.process for w in self.workers if w.process.is_alive()]
        for process in alive:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECS
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker pid %d did not stop in %g s; killing it", process.pid,
                            STOP_TIMEOUT_SECS)
                process.kill()
                process.join()


# In each worker process ----------------------------------------------------------------
def serve_worker(settings: Settings, options: dict[str, Any], started: Event) -> None:
    """One node on the shared port (the target of each worker process)."""
    import uvicorn

    from imagechat.app import create_app

    _exit_with(os.getppid())
    app = create_app(settings, live_fast_path=True)
    config = uvicorn.Config(_TellStarted(app, started), **options)
    uvicorn.Server(config).run(sockets=[_shared_socket(settings.host, settings.port)])


def _shared_socket(host: str, port: int) -> socket.socket:
    family, kind, _proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def _exit_with(parent: int) -> None:
    """Stop (as on SIGTERM) when the supervisor is gone, even killed: no orphan holds the
    port."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="imagechat-parent-watch", daemon=True).start()


class _TellStarted:
    """The app, unchanged, but for the event set once its lifespan has started."""

    def __init__(self, app: Any, started: Event) -> None:
        self.app = app
        self.started = started

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def tell(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                self.started.set()

        await self.app(scope, receive, tell)
