"""A node killed in the middle of webhook deliveries loses none (issue 13, "Done when").

Two `imagechat serve` nodes share PostgreSQL and Redis; an endpoint added with the CLI
gets `comment.created` for 200 comments posted to both nodes, at a receiver process that
answers slowly and checks every signature. One node is SIGKILLed while deliveries are in
flight. Every delivery must then reach the receiver at least once, every committed comment
must have been delivered, and a delivery seen twice must be the same event under the same
id (a retry after the dead node's lease ran out), never another id for it.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.cluster import Node, RedisServer, cluster
from tests.integration.webhook_helpers import eventually, new_receiver, running
from tests.server_process import IMAGECHAT_BIN

COMMENTS = 200
WRITERS = 8
# A write is tried on the live nodes this many times in all (a busy machine may be slow).
WRITE_TRIES = 6
PAGE = "crash-page"
# Kill a node once the receiver has seen this many requests: deliveries are under way.
KILL_AFTER = 50
DELIVERED_TIMEOUT_SECS = 90
# Short lease and retries, so the dead node's deliveries are taken over within seconds.
NODE_ENV = {
    "IMAGECHAT_OUTBOUND_ALLOW_PRIVATE": "true",
    "IMAGECHAT_OUTBOX_LEASE_SECS": "3",
    "IMAGECHAT_WEBHOOK_TIMEOUT_SECS": "2",
    "IMAGECHAT_OUTBOX_RETRY_FIRST_SECS": "0.2",
    "IMAGECHAT_OUTBOX_RETRY_MAX_SECS": "1",
    "IMAGECHAT_RATE_LIMIT_WRITES_PER_VISITOR": "0",
    "IMAGECHAT_RATE_LIMIT_WRITES_PER_TENANT": "0",
}


async def _add_endpoint(database_url: str, url: str) -> str:
    """`imagechat webhook add`, as an operator runs it; returns the secret it printed."""
    process = await asyncio.create_subprocess_exec(
        IMAGECHAT_BIN, "webhook", "add", "demo", url, "--event", "comment.created",
        "--database-url", database_url, stdout=asyncio.subprocess.PIPE)
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    found = re.search(r"Secret: (\S+)", output)
    assert found, output
    return found.group(1)


async def _write_all(nodes: list[Node]) -> list[str]:
    """Post COMMENTS comments, spread over the nodes; a write a dead node refused (or whose
    answer it never sent) goes to the next live node. Returns the writes that failed."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(COMMENTS):
        queue.put_nowait(n)
    failed: list[str] = []

    async def writer(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            why = ""
            for attempt in range(WRITE_TRIES):
                node = nodes[(n + attempt) % len(nodes)]
                if not node.alive:
                    continue
                try:
                    response = await http.post(
                        f"{node.base}/comments/demo", params={"urlId": PAGE},
                        json={"comment": f"comment {n}", "commenterName": "Writer",
                              "anonUserId": f"writer-{n % WRITERS}"})
                except httpx.HTTPError as exc:
                    why = repr(exc)
                    continue
                if response.status_code == 200:
                    break
                why = f"{response.status_code} {response.text[:200]}"
                await asyncio.sleep(0.2)
            else:
                failed.append(f"comment {n}: {why}")

    async with httpx.AsyncClient(timeout=20) as http:
        await asyncio.gather(*(writer(http) for _ in range(WRITERS)))
    return failed


async def test_a_node_killed_mid_delivery_loses_no_webhook(
    shared_database: str, redis_server: RedisServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in NODE_ENV.items():
        monkeypatch.setenv(name, value)
    receiver = new_receiver(tmp_path)
    engine = create_async_engine(shared_database)
    try:
        with cluster(shared_database, redis_server, 2) as nodes:
            secret = await _add_endpoint(shared_database, receiver.url)
            # Slow answers keep deliveries in flight on both nodes.
            with running(receiver, secret, "--delay", "0.3"):
                writes = asyncio.create_task(_write_all(nodes))
                await eventually(lambda: len(receiver.records()) >= KILL_AFTER, 60,
                                 what="deliveries under way")
                nodes[0].kill()
                failed_writes = await writes

                async with engine.connect() as conn:
                    comments = {r.id for r in await conn.execute(text(
                        "SELECT id FROM comments WHERE url_id = :u"), {"u": PAGE})}

                async def all_delivered() -> bool:
                    async with engine.connect() as conn:
                        pending = (await conn.execute(text(
                            "SELECT count(*) FROM outbox WHERE status != 'delivered'"))).scalar()
                    return pending == 0

                try:
                    await eventually(all_delivered, DELIVERED_TIMEOUT_SECS,
                                     what="every delivery delivered")
                except AssertionError:
                    async with engine.connect() as conn:
                        left = (await conn.execute(text(
                            "SELECT id, status, attempts, last_error FROM outbox "
                            "WHERE status != 'delivered'"))).all()
                    raise AssertionError(f"not delivered: {left[:5]} ({len(left)})") from None
                records = receiver.records()
            async with engine.connect() as conn:
                made = {r.id: r.attempts for r in await conn.execute(text(
                    "SELECT id, attempts FROM outbox WHERE kind = 'webhook'"))}
    finally:
        await engine.dispose()

    assert failed_writes == []
    assert len(comments) >= COMMENTS  # every write went through (a lost answer may repeat one)
    invalid = [r for r in records if not r["valid"]]
    assert not invalid, f"a signature did not verify: {invalid[:3]}"
    assert all(r["event"] == "comment.created" for r in records)
    # One delivery per committed comment, each received at least once.
    comment_of: dict[str, str] = {}
    for record in records:
        delivery, comment = record["delivery"], record["body"]["data"]["comment"]["_id"]
        assert record["body"]["id"] == delivery
        # A delivery seen again is the same event: a retry, never another event.
        assert comment_of.setdefault(delivery, comment) == comment
    assert set(comment_of) == set(made), "a delivery never reached the receiver"
    assert sorted(comment_of.values()) == sorted(comments), "an event is missing or doubled"
    # Every delivery was settled as delivered, some after a retry by the surviving node.
    assert sum(made.values()) >= len(made)
