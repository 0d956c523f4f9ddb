"""The webhook receiver process (webhook_receiver.py) for the tests, and waiting on it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.server_process import free_port

RECEIVER = Path(__file__).with_name("webhook_receiver.py")


@dataclass
class Receiver:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]


def new_receiver(tmp_path: Path) -> Receiver:
    """A port and log for a receiver that is started once its endpoint's secret is known."""
    port = free_port()
    return Receiver(port, tmp_path / f"receiver-{port}.jsonl")


@contextlib.contextmanager
def running(receiver: Receiver, secret: str, *args: str) -> Iterator[Receiver]:
    """Run the receiver process until the block ends (stopped by its own PID)."""
    with listening([sys.executable, str(RECEIVER), str(receiver.port), str(receiver.log),
                    f"--secret={secret}", *args], receiver.port):
        yield receiver


@contextlib.contextmanager
def listening(command: list[str], port: int, *, stdout: Path | None = None) -> Iterator[None]:
    """Run a process that listens on `port` until the block ends; its output to `stdout`."""
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(stdout.open("wb")) if stdout else subprocess.DEVNULL
        # Its errors, to say why when it exits early.
        errors = stack.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(command, stdout=out, stderr=errors)
        try:
            deadline = time.monotonic() + 10
            while True:
                if process.poll() is not None:
                    errors.seek(0)
                    why = errors.read().decode(errors="replace")[-2000:]
                    raise AssertionError(f"the receiver exited ({process.returncode}):\n{why}")
                with contextlib.suppress(OSError), socket.create_connection(
                        ("127.0.0.1", port), timeout=0.2):
                    break
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.05)
            yield
        finally:
            process.kill()
            process.wait()


async def eventually(condition: Callable[[], Any], timeout_secs: float, *,
                     what: str = "the condition") -> None:
    """Wait (polling every 50 ms) until `condition()` is true, or fail after the timeout."""
    deadline = time.monotonic() + timeout_secs
    while not await _holds(condition):
        assert time.monotonic() < deadline, f"{what} did not hold within {timeout_secs} s"
        await asyncio.sleep(0.05)


async def _holds(condition: Callable[[], Any]) -> bool:
    result = condition()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)
