"""Write limits on the REST API (issue: security and abuse resistance): a visitor over its
limit gets 429 with Retry-After while other visitors and tenants write on; limits hold
across nodes through Redis, and a Redis outage lets writes through."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from imagechat.app import create_app
from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from imagechat.rate_limit.base import Rate
from imagechat.rate_limit.redis import RedisLimiter
from imagechat.settings import Settings
from tests.helpers import make_tenant
from tests.server_process import free_port

REDIS_URL = os.environ.get("IMAGECHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "acme-secret-for-tests"


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: FixedClock) -> AsyncIterator[FastAPI]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        await make_tenant(app, "acme", api_secret=SECRET)
        yield app


@contextlib.asynccontextmanager
async def visitor(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def small_limits(sqlite_url: str, **limits: Any) -> Settings:
    return Settings(database_url=sqlite_url, **{
        "rate_limit_writes_per_visitor": 3, "rate_limit_writes_per_tenant": 100, **limits})


async def new_conversation(client: httpx.AsyncClient, tenant: str = "acme",
                           **body: Any) -> httpx.Response:
    return await client.post(f"/comment-image-chats/{tenant}", json={
        "urlId": "img-1", "x": 10, "y": 20, "comment": "Hello", "commenterName": "Ann", **body})


def assert_limited(response: httpx.Response, period_secs: float) -> None:
    assert response.status_code == 429, response.text
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= period_secs
    body = response.json()
    assert body == {"status": "failed", "reason": body["reason"], "code": "rate-limited"}
    assert f"try again in {retry_after} s" in body["reason"]


async def test_a_visitor_over_its_limit_gets_429_while_others_write_on(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with running(small_limits(sqlite_url), clock) as app, \
            visitor(app, "10.0.0.1") as ann, visitor(app, "10.0.0.2") as bob:
        created = (await new_conversation(ann)).json()  # 1
        comment_id = created["comment"]["_id"]
        edit_key = created["editKey"]
        window = created["chat"]["windowUrlId"]
        assert (await ann.post(f"/comments/acme?urlId={window}",  # 2
                               json={"comment": "more", "commenterName": "Ann"})).status_code == 200
        assert (await ann.post(f"/comments/acme/{comment_id}/vote",  # 3
                               json={"voteDir": "up", "anonUserId": "anon-ann"})).status_code == 200
        # Every write route counts, deletes too (60 s / 3 writes: a new one every 20 s).
        refused = await ann.request("DELETE", f"/comments/acme/{comment_id}",
                                    json={"editKey": edit_key})
        assert_limited(refused, 20)
        assert_limited(await new_conversation(ann), 20)
        listing = await ann.get("/comments/acme", params={"urlId": window})  # reads are free
        assert listing.status_code == 200
        assert comment_id in [c["_id"] for c in listing.json()["comments"]]  # not deleted

        # Another address, a signed-in user at the same address, another tenant: all fine.
        assert (await new_conversation(bob)).status_code == 200
        token = make_token(SECRET, {"id": "u-1"}, clock.now_ms())
        for _ in range(3):
            assert (await new_conversation(ann, sso=token)).status_code == 200
        assert_limited(await new_conversation(ann, sso=token), 20)
        assert (await new_conversation(ann, tenant="demo")).status_code == 200


async def test_comments_at_a_page_url_id_count_like_a_conversations(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with running(small_limits(sqlite_url), clock) as app, \
            visitor(app, "10.0.0.1") as ann:
        for n in range(3):
            posted = await ann.post("/comments/acme", params={"urlId": "blog/post-1"},
                                    json={"comment": f"page {n}", "commenterName": "Ann"})
            assert posted.status_code == 200, posted.text
            clock.advance(1)  # oldest first: each its own time
        # The page's writes and a conversation's share the visitor's one limit.
        assert_limited(await ann.post("/comments/acme", params={"urlId": "blog/post-2"},
                                      json={"comment": "more", "commenterName": "Ann"}), 20)
        assert_limited(await new_conversation(ann), 20)
        listing = await ann.get("/comments/acme", params={"urlId": "blog/post-1"})
        assert [c["comment"] for c in listing.json()["comments"]] == [
            "page 0", "page 1", "page 2"]


async def test_a_delete_body_is_still_read_by_the_route_after_the_limit_check(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with running(small_limits(sqlite_url), clock) as app, visitor(app, "10.0.0.1") as ann:
        created = (await new_conversation(ann)).json()
        deleted = await ann.request("DELETE", f"/comments/acme/{created['comment']['_id']}",
                                    json={"editKey": created["editKey"]})
        assert deleted.status_code == 200, deleted.text


async def test_unsigned_simple_sso_ids_count_by_address(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with running(small_limits(sqlite_url), clock) as app, visitor(app, "10.0.0.1") as ann:
        await app.state.services.tenants.create("Simple", tenant_id="simple",
                                                allow_simple_sso=True)
        for n in range(3):  # a fresh unsigned id each time does not make a fresh visitor
            sso = {"id": f"claimed-{n}", "username": "X"}
            assert (await new_conversation(ann, tenant="simple", sso=sso)).status_code == 200
        assert_limited(await new_conversation(ann, tenant="simple", sso={"id": "claimed-9",
                                                                  "username": "X"}), 20)


async def test_the_tenant_limit_stops_every_visitor_but_not_other_tenants(
    sqlite_url: str, clock: FixedClock
) -> None:
    settings = small_limits(sqlite_url, rate_limit_writes_per_visitor=100,
                            rate_limit_writes_per_tenant=3)
    async with running(settings, clock) as app:
        for n in range(3):
            async with visitor(app, f"10.0.1.{n}") as client:
                assert (await new_conversation(client)).status_code == 200
        async with visitor(app, "10.0.1.99") as late:
            assert_limited(await new_conversation(late), 20)
            assert (await new_conversation(late, tenant="demo")).status_code == 200


async def test_server_api_writes_count_against_the_tenant_once_the_key_is_checked(
    sqlite_url: str, clock: FixedClock
) -> None:
    settings = small_limits(sqlite_url, rate_limit_writes_per_visitor=1,
                            rate_limit_writes_per_tenant=3)
    async with running(settings, clock) as app, visitor(app, "10.0.0.1") as backend:
        url = "/api/v1/comments/c-missing"
        for _ in range(5):  # a wrong secret is refused before it could use up the budget
            wrong = await backend.delete(url, params={"tenantId": "acme"},
                                         headers={"X-API-Key": "wrong"})
            assert wrong.status_code == 401
        key = {"X-API-Key": SECRET}
        # Three writes from one address although a visitor may do one: the backend is the
        # tenant itself, counted by the tenant limit alone.
        for _ in range(3):
            found = await backend.delete(url, params={"tenantId": "acme"}, headers=key)
            assert found.status_code == 404
        assert_limited(await backend.delete(url, params={"tenantId": "acme"}, headers=key), 20)
        reads = await backend.get("/api/v1/image-chats", params={"tenantId": "acme"}, headers=key)
        assert reads.status_code == 200


async def test_browsers_may_read_retry_after_cross_origin(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with running(small_limits(sqlite_url, rate_limit_writes_per_visitor=1), clock) as app, \
            visitor(app, "10.0.0.1") as ann:
        origin = {"Origin": "https://blog.example.com"}
        await new_conversation(ann)
        refused = await ann.post("/comment-image-chats/acme", headers=origin, json={
            "urlId": "img-1", "x": 1, "y": 1, "comment": "again", "commenterName": "Ann"})
        assert refused.status_code == 429
        exposed = refused.headers["access-control-expose-headers"].lower()
        assert "retry-after" in exposed


# --- several nodes: Redis ------------------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on the shared Redis; its keys are deleted after."""
    prefix = f"imagechat-test:{secrets.token_hex(6)}:rl:"
    yield prefix
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_url() -> str:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # the server is down or unreachable
        if os.environ.get("CI"):
            raise RuntimeError(f"Redis is required under CI: {exc}") from exc
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return REDIS_URL


async def test_two_nodes_share_the_limits_through_redis(
    sqlite_url: str, clock: FixedClock, redis_url: str, redis_prefix: str
) -> None:
    settings = small_limits(sqlite_url, redis_url=redis_url, rate_limit_redis_prefix=redis_prefix)
    tenant = f"t{secrets.token_hex(4)}"  # its own live topics on the shared Redis
    first = create_app(settings, clock=clock)
    second = create_app(settings.model_copy(update={"migrate_on_start": False}), clock=clock)
    async with first.router.lifespan_context(first), \
            second.router.lifespan_context(second):
        await make_tenant(first, tenant)
        async with visitor(first, "10.0.0.1") as on_first, \
                visitor(second, "10.0.0.1") as on_second, visitor(second, "10.0.0.2") as other:
            assert (await new_conversation(on_first, tenant)).status_code == 200
            assert (await new_conversation(on_second, tenant)).status_code == 200
            assert (await new_conversation(on_first, tenant)).status_code == 200
            # The fourth write from 10.0.0.1 is over, whichever node it reaches.
            assert_limited(await new_conversation(on_second, tenant), 20)
            assert_limited(await new_conversation(on_first, tenant), 20)
            assert (await new_conversation(other, tenant)).status_code == 200

    client = aioredis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{redis_prefix}*")]
        assert len(keys) == 3  # the tenant and two visitors
        for key in keys:
            assert 0 < await client.pttl(key) <= 60_000  # gone once it holds nothing
    finally:
        await client.aclose()


async def test_the_redis_backend_counts_like_the_memory_one(
    redis_url: str, redis_prefix: str
) -> None:
    limiter = RedisLimiter(redis_url, prefix=redis_prefix)
    try:
        tenant, visitor_rate = ("tenant", Rate(3)), Rate(1)
        assert (await limiter.hit([tenant, ("ann", visitor_rate)])).allowed
        refused = await limiter.hit([tenant, ("ann", visitor_rate)])
        assert not refused.allowed
        assert 59 < refused.retry_after_secs <= 60
        # Ann's refusals did not use up the tenant's budget: two more visitors fit.
        assert (await limiter.hit([tenant, ("bob", visitor_rate)])).allowed
        assert (await limiter.hit([tenant, ("cy", visitor_rate)])).allowed
        over = await limiter.hit([tenant, ("dee", visitor_rate)])
        assert not over.allowed and 19 < over.retry_after_secs <= 20
        assert (await limiter.hit([("dee", visitor_rate)])).allowed  # dee was not charged
    finally:
        await limiter.close()


async def test_an_unreachable_redis_lets_writes_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RedisLimiter(f"redis://127.0.0.1:{free_port()}/0", prefix="imagechat-test:")
    try:
        with caplog.at_level(logging.WARNING, logger="imagechat.auth"):
            decisions = [await limiter.hit([("k", Rate(1))]) for _ in range(5)]
        assert all(d.allowed for d in decisions)
        warnings = [r for r in caplog.records if "not enforced" in r.getMessage()]
        assert len(warnings) == 1  # once, not once per request
    finally:
        await limiter.close()


async def test_writes_succeed_while_the_limiter_cannot_reach_redis(
    sqlite_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(small_limits(sqlite_url, rate_limit_writes_per_visitor=1), clock) as app, \
            visitor(app, "10.0.0.1") as ann:
        # The node's limiter loses Redis (here: one that was never there).
        dead = RedisLimiter(f"redis://127.0.0.1:{free_port()}/0", prefix="imagechat-test:")
        app.state.rate_limits.backend = dead
        try:
            with caplog.at_level(logging.WARNING, logger="imagechat.auth"):
                for _ in range(3):
                    assert (await new_conversation(ann)).status_code == 200
        finally:
            await dead.close()
        assert any("not enforced" in r.getMessage() for r in caplog.records)
