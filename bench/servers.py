"""Server processes under test: started here, stopped here by PID, measured by PID.

Also the throw-away PostgreSQL database and the Redis database of the two-node run: the
database is created with a random name and dropped at the end; only the chosen Redis
database is flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

IMAGECHAT_BIN = str(Path(sys.executable).with_name("imagechat"))
STARTUP_TIMEOUT_SECS = 30.0
STOP_TIMEOUT_SECS = 10.0
# Access logs (one line per POST) would cost the server more than some of what is measured.
SERVER_LOG_LEVEL = "warning"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """One server process: its PID, port and log file."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str],
                 log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.log_path = log_dir / f"{name}-{port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(argv, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self.pid = self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_bytes(self) -> int:
        """Resident memory of the server, with its workers' (`--workers`)."""
        process = psutil.Process(self.pid)
        return sum(int(p.memory_info().rss)
                   for p in (process, *process.children(recursive=True)))

    def wait_listening(self, health_path: str | None) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early: {self.log_tail()}")
            if _answers(self.port, health_path):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer within "
                                   f"{STARTUP_TIMEOUT_SECS:g} s: {self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 3) -> str:
        """The last lines of the server's output, for error messages (the log is removed)."""
        self._log.flush()
        text = self.log_path.read_bytes()[-4000:].decode(errors="replace")
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_SECS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _answers(port: int, health_path: str | None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if health_path is None:
                return True
            s.sendall(f"GET {health_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


# Every benchmark client comes from 127.0.0.1: the per-address and per-tenant limits, meant
# for abuse, would measure themselves instead of the server.
NO_ABUSE_LIMITS = {
    "IMAGECHAT_RATE_LIMIT_WRITES_PER_VISITOR": "0", "IMAGECHAT_RATE_LIMIT_WRITES_PER_TENANT": "0",
    "IMAGECHAT_RATE_LIMIT_CONNECTS_PER_VISITOR": "0",
    "IMAGECHAT_RATE_LIMIT_CONNECTS_PER_TENANT": "0", "IMAGECHAT_WS_MAX_CONNECTIONS_PER_IP": "0",
}


class Lab:
    """Owns every process and temporary resource of a run; `close()` releases them all."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="imagechat-bench-"))
        self.servers: list[Server] = []
        self._source: str | None = None

    @contextmanager
    def from_source(self, src: str | None) -> Iterator[None]:
        """ImageChat servers started inside run the package in `src` (a checkout's src/
        folder) instead of the installed one; None: the installed one."""
        previous, self._source = self._source, src
        try:
            yield
        finally:
            self._source = previous

    def imagechat(self, database_url: str, *, redis_url: str = "",
                  port: int | None = None, workers: int = 1, asgi: bool = False) -> Server:
        """`imagechat serve`; with `workers` > 1, that many worker processes on the one port
        (they need `redis_url`), measured together (CPU and RSS include the workers). With
        `asgi`, the app under plain uvicorn instead (`uvicorn --factory`), so that `/sub`
        is served through the standard ASGI WebSocket route."""
        port = port or free_port()
        env = {**os.environ, "IMAGECHAT_LOG_LEVEL": SERVER_LOG_LEVEL,
               "IMAGECHAT_REDIS_URL": redis_url, "IMAGECHAT_DATABASE_URL": database_url,
               **NO_ABUSE_LIMITS}
        name = "imagechat"
        if self._source:
            # Ahead of the installed package, which the environment adds after PYTHONPATH.
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (self._source, os.environ.get("PYTHONPATH", "")) if p)
            name = "imagechat-baseline"
        if asgi:
            argv = [sys.executable, "-m", "uvicorn", "--factory", "imagechat.app:create_app",
                    "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
                    "--no-access-log", "--log-level", "warning"]
            return self._start(Server(name + "-asgi", argv, port, env, self.tmp), "/healthz")
        argv = [IMAGECHAT_BIN, "serve", "--host", "127.0.0.1", "--port", str(port),
                "--database-url", database_url]
        if redis_url:
            argv += ["--redis-url", redis_url]
        if workers > 1:
            argv += ["--workers", str(workers)]
        return self._start(Server(name, argv, port, env, self.tmp), "/healthz")

    def reference(self, kind: str) -> Server:
        port = free_port()
        argv = [sys.executable, "-m", "bench.reference_servers", kind, "--port", str(port)]
        env = {**os.environ, "PYTHONPATH": _project_root()}
        return self._start(Server(kind, argv, port, env, self.tmp), None)

    def sqlite_url(self) -> str:
        path = self.tmp / f"imagechat-{secrets.token_hex(4)}.db"
        return f"sqlite+aiosqlite:///{path}"

    def _start(self, server: Server, health_path: str | None) -> Server:
        self.servers.append(server)
        server.wait_listening(health_path)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        with contextlib.suppress(ValueError):
            self.servers.remove(server)

    def close(self) -> None:
        for server in list(self.servers):
            self.stop(server)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _project_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


@asynccontextmanager
async def scratch_postgres(admin_url: str) -> AsyncIterator[str]:
    """A fresh database `imagechat_bench_<random>` on the server of `admin_url`, dropped after.

    `admin_url` is SQLAlchemy-style (postgresql+asyncpg://user@host:port/db); the URL of
    the new database is yielded in the same style.
    """
    import asyncpg

    name = f"imagechat_bench_{secrets.token_hex(4)}"
    parts = urlsplit(admin_url)
    plain = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await run(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_redis(url: str) -> Iterator[str]:
    """Use the Redis database of `url`; flush that database (only it) afterwards."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = client.dbsize()
        if keys:
            print(f"note: Redis {url} already holds {keys} keys; they are flushed at the end")
        yield url
    finally:
        client.flushdb()
        client.close()


def run_in_lab(work: Callable[[Lab], Awaitable[None]], max_secs: float) -> str | None:
    """`work` on uvloop with a Lab of its own, for `max_secs` at most; every process it
    started is stopped by PID afterwards, also after Ctrl-C or SIGTERM. Returns what cut it
    short ("KeyboardInterrupt", "TimeoutError"), or None when it ran to its end."""
    import uvloop

    lab = Lab()
    # A polite stop (SIGTERM) unwinds like Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(asyncio.wait_for(work(lab), max_secs))
    except (KeyboardInterrupt, TimeoutError) as exc:
        return type(exc).__name__
    finally:
        lab.close()
    return None
