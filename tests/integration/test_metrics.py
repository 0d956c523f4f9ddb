"""GET /metrics: counters checked exactly against activity the test itself generates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from imagechat.app import create_app
from imagechat.live.frames import text_frame
from imagechat.settings import Settings
from imagechat.store import event_log
from tests.helpers import create_conversation, services
from tests.integration.conftest import Live
from tests.live_server import LiveClient, live_client

TOKEN = "scrape-me-0d1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SUBSCRIBERS = 3
README = Path(__file__).resolve().parents[2] / "README.md"
PRESENCE_SETTLE_SECS = 0.8  # longer than the presence coalescing interval (0.5 s)


class Samples:
    """A scrape, parsed with prometheus_client's own parser (so the format is checked too)."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.values = {(s.name, frozenset(s.labels.items())): s.value
                       for f in self.families.values() for s in f.samples}

    def __call__(self, name: str, **labels: str) -> float:
        return self.values.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def live_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, metrics_enabled=True, metrics_token=TOKEN)


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Samples(response.text)


async def settle_presence(client: LiveClient, watchers: int) -> None:
    """Read presence until it counts every watcher, then until no more frames come."""
    while (await client.next_of("p-u"))["sc"] != watchers:
        pass
    while not await client.quiet(PRESENCE_SETTLE_SECS, skip=()):
        pass


async def test_counters_match_the_events_published_and_delivered(live: Live) -> None:
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(live_client(
            live.address, urlId="img-1", tenantIdWS="demo", userIdWS=f"watcher-{i}"))
            for i in range(SUBSCRIBERS)]
        for client in clients:
            await settle_presence(client, SUBSCRIBERS)
        before = await scrape(live.http)
        assert before("imagechat_live_connections") == SUBSCRIBERS
        assert before("imagechat_channel_subscriptions") == SUBSCRIBERS
        assert before("imagechat_live_channels") == 1
        assert before("imagechat_events_published_total") == 0
        assert before("imagechat_events_delivered_total") == 0

        # Two markers with a first message each (2 events apiece) and one reply (the
        # message and its marker's new count): 6 events.
        first = await create_conversation(live.http, url_id="img-1")
        await create_conversation(live.http, url_id="img-1", x=60)
        reply = await live.http.post(f"/comments/demo?urlId={first['chat']['windowUrlId']}",
                                     json={"comment": "Agreed", "commenterName": "Bo"})
        assert reply.status_code == 200
        events = 6
        for client in clients:
            assert [e["seq"] for e in await client.events(events)] == [1, 2, 3, 4, 5, 6]

        after = await scrape(live.http)
        assert after("imagechat_events_published_total") == events
        assert after("imagechat_events_delivered_total") == events * SUBSCRIBERS
        assert after("imagechat_broker_lag_seconds_count") == events
        # Frames and bytes: exactly the stored events' frames, once per subscriber.
        async with services(live.app).db.read() as db:
            stored = await event_log.since_seq(db, "demo", "img-1", 0)
        assert len(stored) == events
        frame_bytes = sum(len(text_frame(e.data.encode())) for e in stored)
        assert (after("imagechat_frames_sent_total") - before("imagechat_frames_sent_total")
                == events * SUBSCRIBERS)
        assert (after("imagechat_bytes_sent_total") - before("imagechat_bytes_sent_total")
                == frame_bytes * SUBSCRIBERS)
        route = "/comment-image-chats/{tenantId}"
        assert after("imagechat_http_request_duration_seconds_count",
                     method="POST", route=route, status="200") == 2
        assert after("imagechat_http_request_duration_seconds_count",
                     method="POST", route="/comments/{tenantId}", status="200") == 1
        assert after("imagechat_resyncs_served_total") == 0

        # A client back from an outage resumes from seq 2; another has a stale epoch.
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=2) as back:
            assert (await back.next_of("resumed"))["seq"] == events
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=1,
                               epoch="an-old-epoch") as stale:
            await stale.next_of("resync-required")
        resumed = await scrape(live.http)
        assert resumed("imagechat_resyncs_served_total") == 1
        assert resumed("imagechat_resyncs_refused_total") == 1
        assert resumed("imagechat_events_replayed_total") == events - 2
        assert resumed("imagechat_events_delivered_total") == events * SUBSCRIBERS
        assert resumed("imagechat_slow_consumer_disconnects_total") == 0


async def test_the_readme_explains_every_metric(live: Live) -> None:
    readme = README.read_text()
    names = set((await scrape(live.http)).families)
    assert len(names) >= 12
    missing = [name for name in sorted(names) if f"`{name}" not in readme]
    assert not missing, f"README does not describe: {missing}"


# --- access, without a listening server ------------------------------------------------


@pytest.fixture
async def metrics_app(sqlite_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(database_url=sqlite_url, metrics_enabled=True,
                              metrics_token=TOKEN))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(metrics_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=metrics_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize("header", [
    None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", f"{TOKEN}",
])
async def test_a_scrape_without_the_token_is_401(http: httpx.AsyncClient,
                                                  header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "not-authenticated"
    assert "imagechat_" not in response.text


async def test_a_scrape_with_the_token_is_200(http: httpx.AsyncClient) -> None:
    response = await http.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert "# TYPE imagechat_live_connections gauge" in response.text
    # Prometheus' standard collectors, registered in the app's own registry.
    for family in ("process_resident_memory_bytes", "process_open_fds",
                   "python_gc_collections_total", "python_info"):
        assert f"\n{family}" in response.text, family


async def test_without_a_token_anyone_may_scrape(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url, metrics_enabled=True))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.get("/metrics")).status_code == 200


async def test_metrics_are_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"


async def test_metrics_are_not_in_the_api_schema(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]
    assert "/comment-image-chats/{tenantId}" in schema["paths"]


async def test_latency_is_labelled_by_route_template_never_the_raw_path(
        http: httpx.AsyncClient) -> None:
    for tenant in ("demo", "nosuch1", "nosuch2"):
        await http.get(f"/comment-image-chats/{tenant}?urlId=img-1")
    for path in ("/wp-login.php", "/a/b/c", "/.env"):
        assert (await http.get(path)).status_code == 404
    assert (await http.request("BREW", "/healthz")).status_code == 405
    samples = Samples((await http.get("/metrics", headers=AUTH)).text)
    count = "imagechat_http_request_duration_seconds_count"
    route = "/comment-image-chats/{tenantId}"
    assert samples(count, method="GET", route=route, status="200") == 1
    assert samples(count, method="GET", route=route, status="404") == 2
    assert samples(count, method="GET", route="(unmatched)", status="404") == 3
    assert samples(count, method="other", route="/healthz", status="405") == 1
    routes = {dict(labels).get("route") for (name, labels) in samples.values if name == count}
    assert not routes & {"/comment-image-chats/demo", "/wp-login.php", "/.env"}


async def test_two_apps_in_one_process_keep_their_own_counts(
        http: httpx.AsyncClient, tmp_path: Path) -> None:
    other = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
                                metrics_enabled=True))
    async with other.router.lifespan_context(other), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other), base_url="http://other") as other_http:
        for _ in range(3):
            await other_http.get("/healthz")
        await http.get("/healthz")
        mine = Samples((await http.get("/metrics", headers=AUTH)).text)
        theirs = Samples((await other_http.get("/metrics")).text)
    count = "imagechat_http_request_duration_seconds_count"
    assert mine(count, method="GET", route="/healthz", status="200") == 1
    assert theirs(count, method="GET", route="/healthz", status="200") == 3
