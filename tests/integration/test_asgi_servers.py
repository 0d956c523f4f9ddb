"""The standard ASGI way (issue: run it for real): each server line of the README's "Under
another ASGI server" runs as a process, and serves the live protocol through the app's
ASGI route: events in order, resume, a refusal's close code, and the log's one line that
says this way is slower."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from imagechat.app import ASGI_LIVE_NOTE
from tests.live_server import live_client
from tests.server_process import free_port

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_SECS = 30


def readme_commands() -> dict[str, str]:
    block = re.search(r"<!-- asgi-servers -->\n```sh\n(.*?)\n```", README, re.S)
    assert block, "the README's ASGI server commands are missing"
    return {line.split()[0]: line for line in block[1].splitlines()}


COMMANDS = readme_commands()


@pytest.fixture(params=sorted(COMMANDS))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The README's command line for one server, on a free local port; yields its address
    and its log file."""
    port = free_port()
    line = COMMANDS[request.param].replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    line = line.replace("--host 0.0.0.0", "--host 127.0.0.1").replace(
        "--port 8000", f"--port {port}")
    argv = shlex.split(line)
    argv[0] = str(BIN / argv[0])
    env = {**os.environ, "IMAGECHAT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"}
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=tmp_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECS
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield f"127.0.0.1:{port}", log_path
        process.send_signal(signal.SIGTERM)
        # A clean stop (uvicorn ends by the signal it handled, once it has shut down).
        assert process.wait(timeout=15) in (0, -signal.SIGTERM), log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_the_live_protocol_works_under_the_server(server: tuple[str, Path]) -> None:
    address, log_path = server
    marker = {"urlId": "img-1", "x": 5, "y": 5, "comment": "hello", "commenterName": "Ann"}
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        async with live_client(address, urlId="img-1", tenantIdWS="demo") as viewer:
            await asyncio.sleep(0.1)  # not needed for order: lets presence settle
            created = await http.post("/comment-image-chats/demo",
                                      json={**marker, "broadcastId": "op-1"})
            assert created.status_code == 200, created.text
            events = await viewer.events(2)
            assert [(e["type"], e["seq"], e["broadcastId"]) for e in events] == [
                ("new-image-chat", 1, "op-1"), ("new-comment", 2, "op-1")]
        async with live_client(address, urlId="img-1", tenantIdWS="demo", since=1) as back:
            assert [(e["type"], e["seq"]) for e in await back.events(2)] == [
                ("new-comment", 2), ("resumed", 2)]
        async with live_client(address, urlId="img-1", tenantIdWS="nobody") as refused:
            assert await refused.close_code() == 4404
    assert log_path.read_text().count(ASGI_LIVE_NOTE) == 1
