"""Readiness with a dependency down: at start, then stopped and started again while serving.

Each test runs its own Redis or PostgreSQL server on a free port (never the machine's shared
ones, which other tests use): a real `imagechat serve` starts while it is down, answers
/healthz at once and /readyz 503 with the reason, logs one line and no traceback, becomes
ready once the service is up, and follows it down and up again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from imagechat.app import create_app
from imagechat.settings import Settings
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade
from tests.server_process import free_port, running_server

# The node retries every few seconds at most (services/readiness.py: RETRY_MAX_SECS).
READY_WAIT_SECS = 20
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        raise RuntimeError(f"{what} is required under CI")
    pytest.skip(f"{what} is not available here")


def readiness(base: str) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{base}/readyz", timeout=10)
    return answer.status_code, answer.json()


def wait_for(base: str, status: int) -> dict[str, Any]:
    deadline = time.monotonic() + READY_WAIT_SECS
    while True:
        code, body = readiness(base)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"/readyz still {code}: {body}"
        time.sleep(0.2)


def start_up_lines(log: IO[bytes], name: str) -> list[str]:
    log.flush()
    text = Path(log.name).read_text()
    assert "Traceback" not in text, text
    return [line for line in text.splitlines() if f"{name} not ready at start" in line]


# --- Redis ------------------------------------------------------------------------------

class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                             capture_output=True).stdout.strip() != b"PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        _missing("redis-server")
    redis = PrivateRedis(free_port())
    try:
        yield redis
    finally:
        redis.stop()


def test_redis_down_at_start_then_up_down_and_up(
    private_redis: PrivateRedis, sqlite_url: str, tmp_path: Path
) -> None:
    env = {"IMAGECHAT_REDIS_URL": f"redis://127.0.0.1:{private_redis.port}/0"}
    with open(tmp_path / "node.log", "wb") as log, \
            running_server(sqlite_url, env=env, output=log) as base:
        code, body = readiness(base)
        assert code == 503
        assert body["status"] == "failed"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["broker"].startswith("down: ")
        assert len(start_up_lines(log, "broker")) == 1

        private_redis.start()
        assert wait_for(base, 200) == {"status": "success",
                                       "checks": {"database": "ok", "broker": "ok"}}
        posted = httpx.post(f"{base}/comments/demo?urlId=page",
                            json={"comment": "hi", "commenterName": "Ann"})
        assert posted.status_code == 200

        private_redis.stop()
        down = wait_for(base, 503)
        assert down["checks"]["database"] == "ok"
        assert down["checks"]["broker"].startswith("down: ")
        private_redis.start()
        wait_for(base, 200)


# --- PostgreSQL --------------------------------------------------------------------------

class PrivatePostgres:
    """A throwaway cluster; as root, its commands run as the `postgres` user."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        assert PG_BIN is not None
        self._run(str(PG_BIN / "initdb"), "-D", str(self.directory / "data"), "-U", "postgres",
                  "--auth=trust", "--no-sync")

    def start(self) -> None:
        assert PG_BIN is not None
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-o", options,
                  "-l", str(self.directory / "server.log"), "-w", "start")

    def stop(self) -> None:
        assert PG_BIN is not None
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast",
                  "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if PG_BIN is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        _missing("PostgreSQL's server programs")
    directory = Path(tempfile.mkdtemp(prefix="imagechat-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    pg = PrivatePostgres(directory, free_port())
    pg.create()
    try:
        yield pg
    finally:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(directory / "data"), "-m",
                        "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


def test_postgres_down_at_start_then_up_down_and_up(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    with open(tmp_path / "node.log", "wb") as log, \
            running_server(private_postgres.url, output=log) as base:
        code, body = readiness(base)
        assert (code, body["status"]) == (503, "failed")
        assert body["checks"]["database"].startswith("down: ")
        assert "broker" not in body["checks"]  # none is set up: the in-process one
        assert len(start_up_lines(log, "database")) == 1
        # Nothing is served meanwhile, and nothing fails with a 500.
        early = httpx.get(f"{base}/comments/demo?urlId=page")
        assert early.status_code == 503, early.text

        private_postgres.start()
        assert wait_for(base, 200) == {"status": "success", "checks": {"database": "ok"}}
        # Migrated at start, the demo tenant made: the node serves.
        posted = httpx.post(f"{base}/comments/demo?urlId=page",
                            json={"comment": "hi", "commenterName": "Ann"})
        assert posted.status_code == 200, posted.text

        private_postgres.stop()
        down = wait_for(base, 503)
        assert down["checks"]["database"].startswith("down: ")
        assert httpx.get(f"{base}/comments/demo?urlId=page").status_code == 503

        private_postgres.start()
        wait_for(base, 200)
        assert httpx.get(f"{base}/comments/demo?urlId=page").json()["comments"][0][
            "comment"] == "hi"


# --- a schema that is behind --------------------------------------------------------------

async def test_a_node_that_may_not_migrate_waits_for_the_schema(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, migrate_on_start=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        waiting = await client.get("/readyz")
        assert waiting.status_code == 503
        assert "no ImageChat schema yet" in waiting.json()["checks"]["database"]
        db = Database(sqlite_url)
        try:
            await upgrade(db.writer, sqlite_url)  # the operator runs `imagechat migrate`
        finally:
            await db.dispose()
        deadline = time.monotonic() + READY_WAIT_SECS
        while (answer := await client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            await asyncio.sleep(0.2)
        # The demo tenant is made once the schema is there.
        assert (await client.get("/comments/demo", params={"urlId": "p"})).status_code == 200
