"""`imagechat serve --workers N` (issue: every core): N processes on one port, sharing an
SQLite file or PostgreSQL and a private Redis; live events reach the clients of every
worker; a worker that dies is started again; without a shared broker more than one worker
is refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from typer.testing import CliRunner

from imagechat.cli import app
from tests.integration.cluster import RedisServer
from tests.live_server import LiveClient, live_client
from tests.server_process import IMAGECHAT_BIN, free_port

CLIENTS = 16
TIMEOUT_SECS = 30.0
_STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)")


def test_more_than_one_worker_without_a_shared_broker_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "serve", "--workers", "2", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"],
        env={"IMAGECHAT_REDIS_URL": ""})
    assert result.exit_code == 2
    assert "needs a shared broker" in result.output
    assert "IMAGECHAT_REDIS_URL" in result.output


class Supervisor:
    """`imagechat serve --workers 2` as a process, and what its log says."""

    def __init__(self, tmp_path: Path, redis_url: str, database_url: str = "") -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = tmp_path / "serve.log"
        database_url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
        env = {**os.environ, "IMAGECHAT_DATABASE_URL": database_url,
               "IMAGECHAT_REDIS_URL": redis_url, "IMAGECHAT_LOG_LEVEL": "info"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [IMAGECHAT_BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def started(self) -> int:
        """Worker starts that completed (each worker's app has started)."""
        return self.log().count("Application startup complete")

    def workers(self) -> dict[int, int]:
        """Worker number -> pid of its latest start."""
        return {int(n): int(pid) for n, pid in _STARTED.findall(self.log())}

    async def until(self, condition: str, check: object) -> None:
        deadline = time.monotonic() + TIMEOUT_SECS
        while not check():  # type: ignore[operator]
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"{condition}:\n{self.log()}"
            await asyncio.sleep(0.1)


def connections_by_pid(port: int, pids: list[int]) -> Counter[int]:
    """Established TCP connections to `port` that each process holds (from /proc): the
    live clients', and the test's HTTP client's."""
    inodes: dict[str, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes[target[8:-1]] = pid
    held: Counter[int] = Counter()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01" and fields[9] in inodes:
                    held[inodes[fields[9]]] += 1
    return held


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.asynccontextmanager
async def viewers(address: str, count: int) -> AsyncIterator[list[LiveClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(
            live_client(address, urlId="img-1", tenantIdWS="demo", userIdWS=f"v{i}"))
            for i in range(count)]


async def write(http: httpx.AsyncClient, x: int) -> None:
    response = await http.post("/comment-image-chats/demo", json={
        "urlId": "img-1", "x": x, "y": 1, "comment": f"at {x}", "commenterName": "W"})
    assert response.status_code == 200, response.text


async def seqs(client: LiveClient, count: int) -> list[int]:
    return [e["seq"] for e in await client.events(count)]


async def test_workers_share_one_port_and_a_dead_one_is_started_again(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    server = Supervisor(tmp_path, redis_server.url)
    try:
        await server.until("two workers up", lambda: server.started() == 2)
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=10) as http:
            async with viewers(server.address, CLIENTS) as clients:
                pids = list(server.workers().values())
                held = connections_by_pid(server.port, pids)
                # The kernel spread the connections over both workers.
                assert set(held) == set(pids) and sum(held.values()) >= CLIENTS, held
                await write(http, 1)
                for client in clients:  # each worker's clients, whoever wrote
                    assert await seqs(client, 2) == [1, 2]

            # A worker is killed: the supervisor says so and starts it again.
            first = server.workers()[1]
            os.kill(first, signal.SIGKILL)
            await server.until("worker 1 started again",
                               lambda: server.workers()[1] != first)
            assert f"worker 1 (pid {first}) exited with status -9; starting it again" in \
                server.log()
            await server.until("worker 1 up again", lambda: server.started() == 3)
            async with viewers(server.address, CLIENTS) as clients:
                pids = list(server.workers().values())
                held = connections_by_pid(server.port, pids)
                assert set(held) == set(pids), held  # the new worker serves too
                await write(http, 2)
                for client in clients:
                    assert await seqs(client, 2) == [3, 4]
                # SIGTERM: every worker closes its live connections with 1001, then exits.
                server.process.send_signal(signal.SIGTERM)
                codes = await asyncio.gather(*(c.close_code(15) for c in clients))
                assert set(codes) == {1001}
        assert server.process.wait(timeout=TIMEOUT_SECS) == 0
        assert not any(alive(pid) for pid in server.workers().values())  # all waited for
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


async def test_workers_on_postgresql_migrate_once_and_share_events(
    tmp_path: Path, redis_server: RedisServer, shared_database: str
) -> None:
    # An empty database: the first worker migrates it before the second one starts.
    server = Supervisor(tmp_path, redis_server.url, shared_database)
    try:
        await server.until("two workers up", lambda: server.started() == 2)
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=10) as http, \
                viewers(server.address, CLIENTS) as clients:
            held = connections_by_pid(server.port, list(server.workers().values()))
            assert len(held) == 2, held  # 16 connections, spread by the kernel
            await write(http, 1)
            for client in clients:
                assert await seqs(client, 2) == [1, 2]
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=TIMEOUT_SECS) == 0
        assert "Traceback" not in server.log()
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
