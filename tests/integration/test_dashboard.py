"""The tenant dashboard: signing in and out, sessions, CSRF, usage, images, pages,
moderation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from imagechat.auth import sso
from imagechat.auth.sessions import SESSION_TTL_MS
from imagechat.domain.clock import FixedClock
from imagechat.http.dashboard.common import COOKIE
from tests.helpers import create_conversation, make_tenant, services
from tests.integration.dashboard_helpers import (
    alert_of,
    bars_of,
    csrf_of,
    listed_images,
    session_csrf,
    sign_in,
    sign_in_page,
    sso_token,
    totals_of,
    widget_config,
)

SECRET = "acme-dashboard-secret"
OTHER_SECRET = "globex-dashboard-secret"


@pytest.fixture
async def acme(app: FastAPI) -> str:
    await make_tenant(app, "acme", api_secret=SECRET)
    await make_tenant(app, "globex", api_secret=OTHER_SECRET)
    return "acme"


@pytest.fixture
async def admin(
    app: FastAPI, acme: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client signed in to acme's dashboard, and its session's CSRF token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as c:
        csrf = await sign_in(c, acme, SECRET)
        yield c, csrf


def _cookie_header(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(cookies) == 1, cookies
    return cookies[0]


# --- signing in ------------------------------------------------------------------------------

async def test_sign_in_with_the_api_secret(client: httpx.AsyncClient, acme: str) -> None:
    # Not signed in: every page leads to the sign-in form.
    response = await client.get("/dashboard/usage")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/sign-in?notice=sign-in")
    csrf = await sign_in_page(client)
    response = await client.post("/dashboard/sign-in", data={
        "csrf": csrf, "method": "secret", "tenantId": acme, "apiSecret": SECRET})
    assert response.status_code == 303
    cookie = _cookie_header(response)
    assert cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/dashboard"} <= flags
    assert "secure" not in flags  # plain http here; see the https test
    assert any(f.startswith("max-age=") for f in flags)
    page = await client.get("/dashboard/usage")
    assert page.status_code == 200
    assert "Acme" in page.text and "Sign out" in page.text
    # A new session gets a new CSRF token: the one of the sign-in form is spent.
    assert csrf_of(page.text) != csrf


async def test_cookie_is_secure_over_https(app: FastAPI, acme: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://testserver") as c:
        response = await c.get("/dashboard/sign-in")
        assert "secure" in {p.strip().lower() for p in _cookie_header(response).split(";")}
        await sign_in(c, acme, SECRET)


async def test_wrong_secret_and_unknown_tenant_get_the_same_answer(
    client: httpx.AsyncClient, acme: str
) -> None:
    csrf = await sign_in_page(client)
    answers = []
    for tenant_id, secret in [(acme, "wrong"), ("no-such-tenant", SECRET), (acme, OTHER_SECRET),
                              ("globex", SECRET), ("bad id!", SECRET)]:
        response = await client.post("/dashboard/sign-in", data={
            "csrf": csrf, "method": "secret", "tenantId": tenant_id, "apiSecret": secret})
        assert response.status_code == 401, response.text
        answers.append(alert_of(response.text))
    assert set(answers) == {"The tenant id or the API secret is wrong."}
    # Still not signed in.
    assert (await client.get("/dashboard/usage")).status_code == 303
    response = await client.post("/dashboard/sign-in", data={
        "csrf": csrf, "method": "secret", "tenantId": acme, "apiSecret": ""})
    assert response.status_code == 401
    assert alert_of(response.text) == "Enter the tenant id and its API secret."


async def test_sso_admin_signs_in_with_the_form_or_a_link(
    app: FastAPI, acme: str, clock: FixedClock
) -> None:
    token = sso_token(SECRET, {"id": "u-7", "username": "Ada", "isAdmin": True}, clock.now_ms())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        csrf = await sign_in_page(c)
        response = await c.post("/dashboard/sign-in", data={
            "csrf": csrf, "method": "sso", "tenantId": acme, "sso": token})
        assert response.status_code == 303, response.text
        page = await c.get("/dashboard/usage")
        assert page.status_code == 200 and "Ada" in page.text
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        # The link a site hands its admins: no form, no earlier visit needed.
        response = await c.get("/dashboard/sign-in", params={"tenantId": acme, "sso": token,
                                                             "next": "/dashboard/images"})
        assert response.status_code == 303, response.text
        # The token leaves the address bar at once.
        assert response.headers["location"] == "/dashboard/images"
        assert (await c.get("/dashboard/images")).status_code == 200


@pytest.mark.parametrize(("case", "status", "message"), [
    ("not-admin", 403, "This user is not an administrator of the site"),
    ("moderator", 403, "This user is not an administrator of the site"),
    ("other-tenant", 401, "The tenant id or the SSO token's signature is wrong."),
    ("unknown-tenant", 401, "The tenant id or the SSO token's signature is wrong."),
    ("expired", 401, "older than two days"),
    ("simple", 401, "Only Secure SSO tokens"),
    ("garbage", 401, "not valid JSON"),
])
async def test_sso_sign_in_refusals(
    client: httpx.AsyncClient, acme: str, clock: FixedClock, case: str, status: int,
    message: str,
) -> None:
    now = clock.now_ms()
    tenant_id = acme
    token = {
        "not-admin": sso_token(SECRET, {"id": "u-1", "username": "Bob"}, now),
        "moderator": sso_token(SECRET, {"id": "u-2", "isModerator": True}, now),
        "other-tenant": sso_token(OTHER_SECRET, {"id": "u-3", "isAdmin": True}, now),
        "unknown-tenant": sso_token(SECRET, {"id": "u-4", "isAdmin": True}, now),
        "expired": sso_token(SECRET, {"id": "u-5", "isAdmin": True}, now - 3 * 86_400_000),
        "simple": json.dumps({"simpleSSOUser": {"id": "u-6", "isAdmin": True}}),
        "garbage": "{not json",
    }[case]
    if case == "unknown-tenant":
        tenant_id = "nobody"
    csrf = await sign_in_page(client)
    response = await client.post("/dashboard/sign-in", data={
        "csrf": csrf, "method": "sso", "tenantId": tenant_id, "sso": token})
    assert response.status_code == status, response.text
    assert message in alert_of(response.text)
    # The link refuses alike.
    response = await client.get("/dashboard/sign-in", params={"tenantId": tenant_id,
                                                              "sso": token})
    assert response.status_code == status
    assert (await client.get("/dashboard/usage")).status_code == 303


async def test_after_sign_in_only_dashboard_pages_are_followed(
    client: httpx.AsyncClient, acme: str
) -> None:
    csrf = await sign_in_page(client)
    for target, expected in [("/dashboard/images?page=2", "/dashboard/images?page=2"),
                             ("https://evil.example/", "/dashboard/usage"),
                             ("//evil.example/dashboard/", "/dashboard/usage"),
                             ("/dashboard/\\evil.example", "/dashboard/usage")]:
        response = await client.post("/dashboard/sign-in", data={
            "csrf": csrf, "method": "secret", "tenantId": acme, "apiSecret": SECRET,
            "next": target})
        assert response.headers["location"] == expected
        csrf = await session_csrf(client)


# --- sessions ------------------------------------------------------------------------------

async def test_an_expired_session_asks_to_sign_in_again(
    admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, _ = admin
    clock.advance(SESSION_TTL_MS - 60_000)
    assert (await client.get("/dashboard/images")).status_code == 200
    clock.advance(60_000)
    response = await client.get("/dashboard/images?page=1")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/dashboard/sign-in?notice=expired")
    page = await client.get(location)
    assert "Your session expired" in page.text
    # Where the admin was is kept for after signing in again.
    assert 'name="next" value="/dashboard/images?page=1"' in page.text


async def test_sign_out_ends_the_session(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, csrf = admin
    response = await client.post("/dashboard/sign-out", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/sign-in?notice=signed-out"
    assert 'max-age=0' in _cookie_header(response).lower()
    assert (await client.get("/dashboard/usage")).status_code == 303
    page = await client.get("/dashboard/sign-in?notice=signed-out")
    assert "You are signed out." in page.text


async def test_rotating_the_api_secret_ends_sessions(
    app: FastAPI, admin: tuple[httpx.AsyncClient, str]
) -> None:
    client, _ = admin
    await services(app).tenants.rotate_secret("acme")
    response = await client.get("/dashboard/usage")
    assert response.status_code == 303
    assert "notice=secret-changed" in response.headers["location"]


async def test_a_forged_or_foreign_cookie_is_no_session(
    app: FastAPI, acme: str, clock: FixedClock
) -> None:
    from imagechat.auth.sessions import SessionCodec
    foreign = SessionCodec.from_setting("some-other-servers-secret")
    session = foreign.signed_in(acme, SECRET, "secret", clock.now_ms())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as c:
        c.cookies.set(COOKIE, foreign.encode(session), path="/dashboard")
        assert (await c.get("/dashboard/usage")).status_code == 303


async def test_configured_session_secret_is_shared_by_app_instances(
    sqlite_url: str, clock: FixedClock
) -> None:
    from imagechat.app import create_app
    from imagechat.settings import Settings
    settings = Settings(database_url=sqlite_url, session_secret="shared-secret-for-all-nodes")
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        await make_tenant(first, "acme", api_secret=SECRET)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first),
                                     base_url="http://testserver") as c:
            await sign_in(c, "acme", SECRET)
            cookie = c.cookies.get(COOKIE)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second),
                                     base_url="http://testserver") as c:
            c.cookies.set(COOKIE, cookie or "", path="/dashboard")
            assert (await c.get("/dashboard/usage")).status_code == 200


# --- CSRF ----------------------------------------------------------------------------------

async def test_every_form_needs_the_sessions_csrf_token(
    app: FastAPI, admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, csrf = admin
    conversation = await create_conversation(client, "acme", "img-1")
    page_comment = await _page_comment(client, "blog/1", "hi")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other:
        other_session_csrf = await sign_in(other, "acme", SECRET)  # valid, but not ours
    forms = [
        ("/dashboard/conversations/delete", {"chatId": conversation["createdChatId"]}),
        ("/dashboard/comments/delete", {"commentId": page_comment}),
        ("/dashboard/images/lock", {"urlId": "img-1", "locked": "1"}),
        ("/dashboard/pages/lock", {"urlId": "blog/1", "locked": "1"}),
        ("/dashboard/bans", {"kind": "anon", "id": "anon-ann-0001"}),
        ("/dashboard/bans/remove", {"kind": "anon", "id": "anon-ann-0001"}),
        ("/dashboard/sign-out", {}),
        ("/dashboard/sign-in", {"method": "secret", "tenantId": "acme", "apiSecret": SECRET}),
    ]
    for path, fields in forms:
        for token in (None, "", "forged", other_session_csrf):
            data = dict(fields) if token is None else {**fields, "csrf": token}
            response = await client.post(path, data=data)
            assert response.status_code == 403, (path, token, response.text)
            assert "The form expired or was sent from another site" in response.text
        csrf = await session_csrf(client)
    # Nothing happened: the conversation and the comment are there, the image and the page open,
    # nobody banned, still signed in.
    listing = (await client.get("/comment-image-chats/acme", params={"urlId": "img-1"})).json()
    assert [c["_id"] for c in listing["conversations"]] == [conversation["createdChatId"]]
    assert listing.get("locked") in (False, None)
    thread = (await client.get("/comments/acme", params={"urlId": "blog/1"})).json()
    assert [c["_id"] for c in thread["comments"]] == [page_comment]
    assert thread["isClosed"] is False
    assert await services(app).moderation.list_bans(await services(app).tenants.get("acme")) == []
    assert (await client.get("/dashboard/usage")).status_code == 200
    assert csrf


async def test_posting_without_a_session_leads_to_sign_in(
    client: httpx.AsyncClient, acme: str
) -> None:
    csrf = await sign_in_page(client)  # an anonymous session's token is not enough
    response = await client.post("/dashboard/images/lock", data={"csrf": csrf, "urlId": "x",
                                                                  "locked": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/sign-in?notice=sign-in"


# --- pages ---------------------------------------------------------------------------------

async def test_pages_are_private_and_not_in_the_api_document(
    admin: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = admin
    for path in ("/dashboard/usage", "/dashboard/images", "/dashboard/pages",
                 "/dashboard/moderation", "/dashboard/sign-in"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "https://" not in response.text.split("<main")[0]  # no CDN assets
    css = await client.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text
    assert (await client.get("/dashboard/static/../templates/base.html")).status_code == 404
    assert (await client.get("/dashboard/static/base.html")).status_code == 404
    schema = (await client.get("/openapi.json")).json()
    assert not [p for p in schema["paths"] if p.startswith("/dashboard")]


async def test_usage_charts_and_csv_show_the_tenants_activity(
    admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, _ = admin
    conversations = [await create_conversation(client, "acme", f"img-{i}") for i in range(3)]
    for conversation in conversations[:2]:
        response = await client.post("/comments/acme", params={"urlId": conversation["chat"][
            "windowUrlId"]}, json={"comment": "reply", "commenterName": "Bo",
                                   "anonUserId": "anon-bo-0001"})
        assert response.status_code == 200, response.text
    await create_conversation(client, "globex", "img-0")  # another tenant: never counted here

    page = await client.get("/dashboard/usage")
    assert page.status_code == 200
    totals = totals_of(page.text)
    assert totals["conversationCreateCount"] == 3
    assert totals["commentCreateCount"] == 5
    bars = bars_of(page.text)
    assert set(bars) == {"pubSubMessageCount", "pubSubBandwidth", "conversationCreateCount",
                         "commentCreateCount", "peakViewers"}
    today = bars["commentCreateCount"][-1]
    assert len(bars["commentCreateCount"]) == 7 and today[1] == 5
    assert sum(v for _, v in bars["conversationCreateCount"]) == 3

    hourly = await client.get("/dashboard/usage", params={"bucket": "hour"})
    hour_bars = bars_of(hourly.text)["conversationCreateCount"]
    assert len(hour_bars) == 7 * 24
    assert [v for _, v in hour_bars if v] == [3]

    response = await client.get("/dashboard/usage.csv", params={"bucket": "hour"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 7 * 24
    assert sum(int(r["conversationCreateCount"]) for r in rows) == 3
    assert sum(int(r["commentCreateCount"]) for r in rows) == 5
    busy = [r for r in rows if r["commentCreateCount"] != "0"]
    assert [r["hourStart"] for r in busy] == [hour_bars[[v for _, v in hour_bars].index(3)][0]]


async def test_usage_range_errors_are_shown_on_the_page(
    admin: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = admin
    response = await client.get("/dashboard/usage", params={"from": "2024-05-03",
                                                            "to": "2024-05-01"})
    assert response.status_code == 400
    assert alert_of(response.text) == "The end date is before the start date."
    response = await client.get("/dashboard/usage.csv", params={"from": "2024-01-01",
                                                                "bucket": "hour"})
    assert response.status_code == 400 and "at most 31 days" in alert_of(response.text)


async def test_images_list_sorts_and_pages(
    app: FastAPI, admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, _ = admin
    for i in range(27):
        await create_conversation(client, "acme", f"shop/{i:02d}.png", src=f"https://cdn.example/{i}.png")
        clock.advance(1000)
    conversation = await create_conversation(client, "acme", "shop/00.png", x=50, comment="again")
    await client.post("/comments/acme", params={"urlId": conversation["chat"]["windowUrlId"]},
                      json={"comment": "more", "commenterName": "Bo", "anonUserId": "anon-x"})
    first = await client.get("/dashboard/images")
    shown = listed_images(first.text)
    assert len(shown) == 25
    # Newest activity first: the image written to last leads.
    assert shown[:3] == ["shop/00.png", "shop/26.png", "shop/25.png"]
    assert "Page 1 of 2" in first.text
    row = first.text.split('data-url-id="shop/00.png"')[1].split("</tr>")[0]
    assert '<td data-label="Conversations" class="num conversations">2</td>' in row
    assert '<td data-label="Comments" class="num comments">3</td>' in row
    assert '<td data-label="Viewers now" class="num viewers">0</td>' in row
    assert 'src="https://cdn.example/0.png"' in row
    second = await client.get("/dashboard/images", params={"page": 2})
    assert listed_images(second.text) == ["shop/02.png", "shop/01.png"]
    oldest = await client.get("/dashboard/images", params={"sort": "oldest"})
    assert listed_images(oldest.text)[:2] == ["shop/01.png", "shop/02.png"]
    bad = await client.get("/dashboard/images", params={"page": "x"})
    assert bad.status_code == 400


async def test_images_show_open_and_resolved_conversations(
    admin: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = admin
    conversations = [await create_conversation(client, "acme", "shop/r.png", x=10 * n)
                     for n in range(3)]
    first = conversations[0]
    response = await client.post(f"/comment-image-chats/acme/{first['createdChatId']}/resolve",
                                 json={"resolved": True, "editKey": first["editKey"]})
    assert response.status_code == 200, response.text
    row = (await client.get("/dashboard/images")).text.split(
        'data-url-id="shop/r.png"')[1].split("</tr>")[0]
    assert '<td data-label="Open" class="num open">2</td>' in row
    assert '<td data-label="Resolved" class="num resolved">1</td>' in row
    view = await client.get("/dashboard/images/view", params={"urlId": "shop/r.png"})
    assert '<dd class="open">2</dd>' in view.text and '<dd class="resolved">1</dd>' in view.text


async def test_a_page_with_comments_is_not_listed_as_an_image(
    admin: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = admin
    await create_conversation(client, "acme", "shop/a.png")
    # Comments at a page's urlId, and a thread whose conversation does not exist yet.
    for url_id in ("shop.example/blog/1", "shop/b.png:/b.png:5:5"):
        response = await client.post("/comments/acme", params={"urlId": url_id}, json={
            "comment": "on a page", "commenterName": "Bo", "anonUserId": "anon-x"})
        assert response.status_code == 200, response.text
    page = await client.get("/dashboard/images")
    assert listed_images(page.text) == ["shop/a.png"]
    assert "1 image with activity" in page.text
    view = await client.get("/dashboard/images/view", params={"urlId": "shop.example/blog/1"})
    assert view.status_code == 404


async def test_image_page_lists_threads_and_opens_the_widget_as_admin(
    admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, _ = admin
    conversation = await create_conversation(client, "acme", "shop/a.png",
                                             comment="<b>Too dark</b>", src="/img/a.png",
                                             url="https://shop.example/p/1")
    page = await client.get("/dashboard/images/view", params={"urlId": "shop/a.png"})
    assert page.status_code == 200
    assert f'data-chat-id="{conversation["createdChatId"]}"' in page.text
    assert "&lt;b&gt;Too dark&lt;/b&gt;" in page.text  # shown as text, never as markup
    assert 'src="https://shop.example/img/a.png"' in page.text
    assert '<script src="/js/embed-image-chat.min.js"></script>' in page.text
    config = widget_config(page.text)
    assert config["tenantId"] == "acme" and config["urlId"] == "shop/a.png"
    user = sso.verify_secure(config["sso"], SECRET, clock.now_ms())
    assert user.is_admin and user.id.startswith("dashboard:")
    # The widget's listing, with that token, is a moderator's.
    listing = (await client.get("/comment-image-chats/acme", params={
        "urlId": "shop/a.png", "sso": json.dumps(config["sso"])})).json()
    assert listing["isSiteAdmin"] is True
    missing = await client.get("/dashboard/images/view", params={"urlId": "nothing.png"})
    assert missing.status_code == 404
    assert "no image with that urlId" in alert_of(missing.text)


async def _page_comment(
    client: httpx.AsyncClient, url_id: str, text: str, *, tenant: str = "acme",
    anon: str = "anon-ann-0001", **extra: str,
) -> str:
    response = await client.post(f"/comments/{tenant}", params={"urlId": url_id}, json={
        "comment": text, "commenterName": "Ann", "anonUserId": anon, **extra})
    assert response.status_code == 200, response.text
    comment_id: str = response.json()["comment"]["_id"]
    return comment_id


async def test_pages_list_sorts_pages_and_leaves_threads_out(
    admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, _ = admin
    await create_conversation(client, "acme", "shop/a.png")  # its thread is the image's, not a page
    await _page_comment(client, "blog/evil", "x", url="javascript:alert(1)")
    for i in range(26):
        clock.advance(1000)
        await _page_comment(client, f"blog/{i:02d}", "hi", url=f"https://shop.example/{i}",
                            pageTitle=f"Post <{i}>")
    clock.advance(1000)
    await _page_comment(client, "blog/00", "again")
    await _page_comment(client, "globex/blog", "elsewhere", tenant="globex")

    first = await client.get("/dashboard/pages")
    assert first.status_code == 200
    shown = listed_images(first.text)
    assert len(shown) == 25 and "27 pages with comments" in first.text
    assert shown[:3] == ["blog/00", "blog/25", "blog/24"]  # newest activity first
    assert "Page 1 of 2" in first.text and 'aria-current="page">Pages<' in first.text
    row = first.text.split('data-url-id="blog/00"')[1].split("</tr>")[0]
    assert '<td data-label="Comments" class="num comments">2</td>' in row
    assert ('href="https://shop.example/0" rel="noopener noreferrer" class="page-url">'
            "Post &lt;0&gt;</a>") in row
    assert 'href="/dashboard/pages/view?urlId=blog/00"' in row
    second = await client.get("/dashboard/pages", params={"page": 2})
    assert listed_images(second.text) == ["blog/01", "blog/evil"]
    assert "javascript:" not in second.text  # only http(s) addresses are links
    oldest = await client.get("/dashboard/pages", params={"sort": "oldest"})
    assert listed_images(oldest.text)[:2] == ["blog/evil", "blog/01"]
    assert (await client.get("/dashboard/pages", params={"page": "0"})).status_code == 400


async def test_page_view_moderates_its_comments(
    admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, csrf = admin

    async def post(path: str, **fields: str) -> httpx.Response:
        clock.advance(1000)
        return await client.post(path, data={"csrf": csrf, **fields})

    first = await _page_comment(client, "blog/1", "<b>Great</b> post", anon="anon-troll-01",
                                pageTitle="Launch")
    clock.advance(1000)
    reply = await _page_comment(client, "blog/1", "Thanks", parentId=first)
    clock.advance(1000)
    last = await _page_comment(client, "blog/1", "Later")
    view = await client.get("/dashboard/pages/view", params={"urlId": "blog/1"})
    assert view.status_code == 200
    assert "&lt;b&gt;Great&lt;/b&gt; post" in view.text  # shown as text, never as markup
    ids = view.text.split('data-comment-id="')[1:]
    assert [i.split('"')[0] for i in ids] == [first, reply, last]  # oldest first
    assert "Lock page (read-only)" in view.text and "Launch" in view.text

    # Lock and unlock: visitors can no longer write, then can again.
    response = await post("/dashboard/pages/lock", urlId="blog/1", locked="1")
    assert response.headers["location"] == "/dashboard/pages/view?urlId=blog%2F1&notice=page-locked"
    refused = await client.post("/comments/acme", params={"urlId": "blog/1"}, json={
        "comment": "no", "commenterName": "V", "anonUserId": "anon-v"})
    assert refused.json()["code"] == "image-locked"
    page = await client.get(response.headers["location"])
    assert "locked (read-only)" in page.text and "Unlock page" in page.text
    await post("/dashboard/pages/lock", urlId="blog/1", locked="0")

    # Ban the first comment's author from the page's view.
    response = await post("/dashboard/bans", kind="anon", id="anon-troll-01", urlId="blog/1",
                          view="page")
    assert response.headers["location"] == "/dashboard/pages/view?urlId=blog%2F1&notice=banned"
    page = await client.get(response.headers["location"])
    assert "Lift ban on Ann" in page.text

    # Delete the first comment: its reply goes with it.
    response = await post("/dashboard/comments/delete", commentId=first, urlId="blog/1",
                          view="page")
    assert response.headers["location"] == (
        "/dashboard/pages/view?urlId=blog%2F1&notice=comment-deleted")
    thread = (await client.get("/comments/acme", params={"urlId": "blog/1"})).json()
    assert [c["_id"] for c in thread["comments"]] == [last]
    page = await client.get(response.headers["location"])
    assert page.text.count('class="comment"') == 1 and "with its replies" in page.text
    gone = await post("/dashboard/comments/delete", commentId=first)
    assert gone.status_code == 404
    log = (await client.get("/dashboard/moderation")).text.split('id="log"')[1]
    assert 'class="action">delete-comment<' in log

    # A conversation's thread is its image's, not a page.
    conversation = await create_conversation(client, "acme", "shop/a.png")
    window = conversation["chat"]["windowUrlId"]
    for response in (await client.get("/dashboard/pages/view", params={"urlId": window}),
                     await post("/dashboard/pages/lock", urlId=window, locked="1")):
        assert response.status_code == 404
        assert "no page with that urlId" in alert_of(response.text)


async def test_moderation_from_the_dashboard(
    app: FastAPI, admin: tuple[httpx.AsyncClient, str], clock: FixedClock
) -> None:
    client, csrf = admin

    async def post(path: str, **fields: str) -> httpx.Response:
        clock.advance(1000)  # one action per second: the log's order is by time
        return await client.post(path, data={"csrf": csrf, **fields})

    conversation = await create_conversation(client, "acme", "img-1", anonUserId="anon-troll-01")
    window = conversation["chat"]["windowUrlId"]

    async def visitor_post(anon: str) -> httpx.Response:
        return await client.post("/comments/acme", params={"urlId": window}, json={
            "comment": "hi", "commenterName": "V", "anonUserId": anon})

    # Lock: visitors can no longer write; the page says so.
    response = await post("/dashboard/images/lock", urlId="img-1", locked="1")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/images/view?urlId=img-1&notice=locked"
    assert (await visitor_post("anon-nice-01")).json()["code"] == "image-locked"
    page = await client.get(response.headers["location"])
    assert "locked (read-only)" in page.text and "Unlock image" in page.text
    assert "visitors can read but not write" in page.text
    await post("/dashboard/images/lock", urlId="img-1", locked="0")
    assert (await visitor_post("anon-nice-01")).status_code == 200

    # Ban the conversation's author from the image page, then lift it.
    response = await post("/dashboard/bans", kind="anon", id="anon-troll-01", reason="spam",
                          urlId="img-1")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/images/view?urlId=img-1&notice=banned"
    assert (await visitor_post("anon-troll-01")).json()["code"] == "banned"
    page = await client.get("/dashboard/moderation")
    assert "anon-troll-01" in page.text and "spam" in page.text
    again = await post("/dashboard/bans", kind="anon", id="anon-troll-01")
    assert again.status_code == 409 and "already banned" in alert_of(again.text)
    response = await post("/dashboard/bans/remove", kind="anon", id="anon-troll-01")
    assert response.headers["location"] == "/dashboard/moderation?notice=unbanned"
    assert (await visitor_post("anon-troll-01")).status_code == 200
    bad = await post("/dashboard/bans", kind="x", id="y")
    assert bad.status_code == 400

    # Delete the conversation.
    response = await post("/dashboard/conversations/delete", chatId=conversation["createdChatId"])
    assert response.headers["location"] == "/dashboard/images/view?urlId=img-1&notice=deleted"
    listing = (await client.get("/comment-image-chats/acme", params={"urlId": "img-1"})).json()
    assert listing["conversations"] == []
    gone = await post("/dashboard/conversations/delete", chatId=conversation["createdChatId"])
    assert gone.status_code == 404

    # The log says who did what, newest first.
    page = (await client.get("/dashboard/moderation")).text
    log = page.split('id="log"')[1]
    actions = [a for a in ("delete-conversation", "unban", "ban", "unlock", "lock")
               if f'class="action">{a}<' in log]
    assert actions == ["delete-conversation", "unban", "ban", "unlock", "lock"]
    order = [log.index(f'class="action">{a}<') for a in actions]
    assert order == sorted(order)
    assert "site backend (API secret)" in log


async def test_sso_admins_actions_are_logged_under_their_name(
    app: FastAPI, acme: str, clock: FixedClock
) -> None:
    token = sso_token(SECRET, {"id": "u-7", "username": "Ada", "isAdmin": True}, clock.now_ms())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as c:
        response = await c.get("/dashboard/sign-in", params={"tenantId": acme, "sso": token})
        assert response.status_code == 303
        csrf = await session_csrf(c)
        await c.post("/dashboard/images/lock", data={"csrf": csrf, "urlId": "img-9",
                                                     "locked": "1"})
        log = (await c.get("/dashboard/moderation")).text.split('id="log"')[1]
        assert "Ada (u-7)" in log
