"""End-to-end fixtures: a real server process and the system Chromium driven by Playwright.

Chromium comes from the distribution (`apt-get install chromium`); Playwright never
downloads a browser here. Without Chromium these tests are skipped on a laptop and fail
under CI (CI=true), so a missing browser cannot hide behind a skip there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.server_process import free_port, running_server

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if not path:
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is required under CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


# Module scope, not session: Playwright's sync API keeps an event loop running while it is
# open, and the async tests of other modules need none to be running when they start.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A fresh `imagechat serve` on an SQLite file; yields its base URL."""
    with running_server(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}") as base:
        yield base


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class RestartableServer:
    """`imagechat serve` that a test can stop and start again on the same port and database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._stack: ExitStack | None = None

    def start(self) -> None:
        assert self._stack is None, "already running"
        stack = ExitStack()
        stack.enter_context(running_server(self.database_url, port=self.port))
        self._stack = stack

    def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

    @contextmanager
    def other_node(self) -> Iterator[str]:
        """A second server on another port sharing the database (e.g. to write during a gap)."""
        with running_server(self.database_url) as base:
            yield base


@pytest.fixture
def restartable_server(tmp_path: Path) -> Iterator[RestartableServer]:
    srv = RestartableServer(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
