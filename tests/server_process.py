"""Run `imagechat serve` as a real process on a free local port (integration and e2e tests)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

IMAGECHAT_BIN = str(Path(sys.executable).with_name("imagechat"))
STARTUP_TIMEOUT_SECS = 30


# Ports handed out by this process: the kernel may give a just-released port again, and a
# test that asks for two (a server and a receiver) must not get the same one twice.
_handed_out: set[int] = set()


def tenant_database(path: Path, name: str, tenant_id: str) -> tuple[str, str]:
    """A new SQLite database at `path`, migrated, with one tenant made by the CLI: its URL
    and the tenant's API secret (the CLI prints it once)."""
    database_url = f"sqlite+aiosqlite:///{path}"
    subprocess.run([IMAGECHAT_BIN, "migrate", "--database-url", database_url],
                   capture_output=True, check=True)
    made = subprocess.run([IMAGECHAT_BIN, "tenant", "create", name, "--id", tenant_id,
                           "--database-url", database_url],
                          capture_output=True, text=True, check=True)
    found = re.search(r"API secret:\s*(\S+)", made.stdout)
    assert found, made.stdout
    return database_url, found.group(1)


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@contextmanager
def running_server(
    database_url: str, *, port: int | None = None, env: dict[str, str] | None = None,
    cwd: Path | None = None, args: Sequence[str] = (), output: IO[bytes] | None = None,
) -> Iterator[str]:
    """Start the server, wait until it answers, yield its base URL, stop it by PID.

    `args` are added to `imagechat serve`; `output` (a file) receives its stdout and stderr.
    """
    port = port or free_port()
    full_env = {**os.environ, "IMAGECHAT_DATABASE_URL": database_url, **(env or {})}
    process = subprocess.Popen(
        [IMAGECHAT_BIN, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env=full_env, cwd=cwd, stdout=output or subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECS
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"server exited early:\n{output}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
