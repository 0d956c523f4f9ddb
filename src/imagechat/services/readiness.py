"""Readiness: whether this node can serve now, and the start-up steps retried until it can.

A database or broker that is down when the node starts does not stop it. Each start-up step
(bring the schema up to date, start the broker) is tried once while the server starts, so
that in the usual case the node is ready when it begins to answer. A step that fails is
logged in one line, without a traceback, and retried in the background with back-off;
meanwhile `/healthz` answers (the process lives) and `/readyz` answers 503 with the reason,
so a load balancer sends it nothing. Once every step is done, `/readyz` asks the database
(and the shared broker, when there is one) on every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text

from imagechat.bus.base import Broker
from imagechat.domain.errors import ImageChatError
from imagechat.store.database import Database

log = logging.getLogger("imagechat")

# Back-off between tries of a failed start-up step: doubles from the first value to the cap.
RETRY_FIRST_SECS = 0.5
RETRY_MAX_SECS = 5.0
# A check that takes longer than this counts as down: /readyz must answer a load balancer
# quickly, and a database that slow cannot serve requests either.
CHECK_TIMEOUT_SECS = 3.0
OK = "ok"

# A start-up step; `retrying` is True when an earlier try failed.
Step = Callable[[bool], Awaitable[None]]


def reason_of(exc: BaseException) -> str:
    """One line saying why something failed: for a log line, a /readyz check, the CLI."""
    while isinstance(exc, ImageChatError) and exc.__cause__ is not None:
        exc = exc.__cause__
    inner = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    if isinstance(inner, BaseException):
        exc = inner
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    words = str(exc).strip()
    line = words.splitlines()[0] if words else type(exc).__name__
    return line[:300]


@dataclass
class _Step:
    name: str
    run: Step
    done: bool = False
    error: str = "starting"
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Readiness:
    def __init__(self, db: Database, broker: Broker, *, shared_broker: bool) -> None:
        self.db = db
        self.broker = broker
        self.shared_broker = shared_broker
        self._steps: dict[str, _Step] = {}

    async def start(self, steps: dict[str, Step]) -> None:
        """Try each step once, in order; those that fail go on in the background."""
        for name, run in steps.items():
            step = self._steps[name] = _Step(name, run)
            try:
                await run(False)
                step.done = True
            except Exception as exc:
                step.error = reason_of(exc)
                log.warning("%s not ready at start: %s; retrying in the background, "
                            "/readyz answers 503 until it is", name, step.error)
                log.debug("%s start-up step failed", name, exc_info=True)
                step.task = asyncio.create_task(self._retry(step))

    async def _retry(self, step: _Step) -> None:
        pause = RETRY_FIRST_SECS
        while True:
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECS)
            try:
                await step.run(True)
            except Exception as exc:
                step.error = reason_of(exc)
                log.debug("%s still not ready: %s", step.name, step.error)
                continue
            step.done = True
            log.info("%s ready", step.name)
            return

    async def stop(self) -> None:
        for step in self._steps.values():
            if step.task is not None:
                step.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step.task

    def started(self, name: str) -> bool:
        step = self._steps.get(name)
        return step is not None and step.done

    async def checks(self) -> dict[str, str]:
        """Each dependency's state: "ok", or "down: <reason>"."""
        found = {"database": await self._check("database", self._ask_database)}
        if self.shared_broker:
            found["broker"] = await self._check("broker", self.broker.ping)
        return found

    async def _check(self, name: str, ask: Callable[[], Awaitable[None]]) -> str:
        step = self._steps.get(name)
        if step is not None and not step.done:
            return f"down: {step.error}"
        try:
            await asyncio.wait_for(ask(), CHECK_TIMEOUT_SECS)
        except Exception as exc:
            return f"down: {reason_of(exc)}"
        return OK

    async def _ask_database(self) -> None:
        async with self.db.read() as conn:
            await conn.execute(text("SELECT 1"))
