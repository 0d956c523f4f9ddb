"""Tenant isolation of the dashboard (docs/data-model.md, Tenants): tenant A's admin never
sees or changes B's.

The world of the API isolation suite: A and B both talk about the same image urlId and
comment on the same page urlId, B has more, and B has a ban, a locked image, a locked page,
moderation log entries and a webhook endpoint with a delivery. Tenant A's admin, signed in
to A's dashboard, tries every dashboard route on B's objects; afterwards B's rows and B's
own reads must be exactly as before, and no page shown to A may contain anything of B's.
`test_every_dashboard_route_has_an_isolation_case` fails when a route is added without one.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from imagechat.app import create_app
from imagechat.domain.clock import FixedClock
from imagechat.services.image_export import file_name
from imagechat.settings import Settings
from tests.helpers import api_routes, services
from tests.integration.dashboard_helpers import (
    alert_of,
    listed_images,
    sign_in,
    sign_in_page,
    totals_of,
)
from tests.integration.test_tenant_isolation import (
    B_BOUNCED,
    B_ONLY_IMAGE,
    B_ONLY_PAGE,
    SHARED_IMAGE,
    SHARED_PAGE,
    A,
    B,
    World,
    build_world,
    tenant_b_reads,
    tenant_rows,
)

# Banned in B by the world's setup (with a reason that is B's secret).
B_BANNED = "anon-b-troll"


@dataclass
class Ctx:
    app: FastAPI
    admin: httpx.AsyncClient  # signed in to A's dashboard
    w: World
    csrf: str
    attempts: int = 0

    def check(self, response: httpx.Response, status: int) -> str:
        self.attempts += 1
        where = f"{response.request.method} {response.request.url}"
        assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
        for marker in [*self.w.leak_markers(), B_BANNED]:
            assert marker not in response.text, f"{where} leaked {marker!r}"
        return response.text

    async def get(self, path: str, status: int = 200, **params: str) -> str:
        return self.check(await self.admin.get(path, params=params), status)

    async def post(self, path: str, status: int, **fields: str) -> str:
        return self.check(await self.admin.post(path, data={"csrf": self.csrf, **fields}),
                          status)


Case = Callable[[Ctx], Awaitable[None]]


async def case_home(c: Ctx) -> None:
    for path in ("/dashboard", "/dashboard/"):
        response = await c.admin.get(path)
        c.check(response, 303)
        assert response.headers["location"] == "/dashboard/usage"


async def case_sign_in_page(c: Ctx) -> None:
    # A's admin token names tenant B in the link: refused, and no session of B's results.
    token = c.w.identities["admin"].query["sso"]
    text = await c.get("/dashboard/sign-in", 401, tenantId=B, sso=token)
    assert "signature is wrong" in alert_of(text)
    await c.get("/dashboard/images")  # still A's admin: B's images are not listed


async def case_sign_in(c: Ctx) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.app),
                                 base_url="http://testserver") as other:
        csrf = await sign_in_page(other)
        for fields in ({"method": "secret", "apiSecret": c.w.tenant_a.api_secret},
                       {"method": "sso", "sso": c.w.identities["admin"].query["sso"]}):
            response = await other.post("/dashboard/sign-in",
                                        data={"csrf": csrf, "tenantId": B, **fields})
            c.check(response, 401)
        assert (await other.get("/dashboard/usage")).status_code == 303


async def case_sign_out(c: Ctx) -> None:
    await c.post("/dashboard/sign-out", 303)
    c.check(await c.admin.get("/dashboard/images"), 303)


async def case_usage(c: Ctx) -> None:
    for bucket in ("day", "hour"):
        totals = totals_of(await c.get("/dashboard/usage", bucket=bucket))
        # A made one conversation and three comments; B made two and five.
        assert totals["conversationCreateCount"] == 1
        assert totals["commentCreateCount"] == 3


async def case_usage_csv(c: Ctx) -> None:
    rows = list(csv.DictReader(io.StringIO(await c.get("/dashboard/usage.csv"))))
    assert sum(int(r["conversationCreateCount"]) for r in rows) == 1
    assert sum(int(r["commentCreateCount"]) for r in rows) == 3


async def case_images(c: Ctx) -> None:
    # Neither B's images nor any page (A's shared page is a page, not an image).
    for sort in ("recent", "oldest"):
        assert listed_images(await c.get("/dashboard/images", sort=sort)) == [SHARED_IMAGE]


async def case_image_view(c: Ctx) -> None:
    for url_id in (B_ONLY_IMAGE, B_ONLY_PAGE, c.w.b_window1, c.w.b_window2):
        text = await c.get("/dashboard/images/view", 404, urlId=url_id)
        assert "no image with that urlId" in alert_of(text)
    text = await c.get("/dashboard/images/view", urlId=SHARED_IMAGE)
    assert f'data-chat-id="{c.w.a_conversation}"' in text
    assert text.count('class="thread"') == 1


async def case_export_image(c: Ctx) -> None:
    for fmt in ("csv", "pdf"):
        for url_id in (B_ONLY_IMAGE, B_ONLY_PAGE, c.w.b_window1):
            text = await c.get("/dashboard/images/export", 404, urlId=url_id, format=fmt)
            assert "no image with that urlId" in alert_of(text)
    text = await c.get("/dashboard/images/export", urlId=SHARED_IMAGE, format="csv")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["conversationId"] for r in rows} == {c.w.a_conversation}


async def case_export_site(c: Ctx) -> None:
    text = await c.get("/dashboard/images/export.csv")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {(r["urlId"], r["conversationId"]) for r in rows} == {(SHARED_IMAGE, c.w.a_conversation)}


async def case_export_site_annotations(c: Ctx) -> None:
    text = await c.get("/dashboard/images/export.jsonld")
    # A's images only (B's leak markers are checked by c.get), with A's conversation.
    collections = json.loads(text)
    assert [c["label"] for c in collections] == [f"Annotations on {SHARED_IMAGE}"]
    assert c.w.a_conversation in text


async def case_export_site_reports(c: Ctx) -> None:
    response = await c.admin.get("/dashboard/images/reports.zip")
    c.check(response, 200)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == [file_name(SHARED_IMAGE, "pdf")]
        report = archive.read(archive.namelist()[0])
    # A's own report, which names A's conversation and none of B's.
    for marker in c.w.leak_markers():
        assert marker.encode() not in report


async def case_lock(c: Ctx) -> None:
    # Locking "B's" image or page from A's dashboard locks A's own channel of that urlId.
    for url_id in (B_ONLY_IMAGE, SHARED_IMAGE, B_ONLY_PAGE, SHARED_PAGE):
        await c.post("/dashboard/images/lock", 303, urlId=url_id, locked="1")
        await c.post("/dashboard/images/lock", 303, urlId=url_id, locked="0")


async def case_delete_conversation(c: Ctx) -> None:
    for chat_id in c.w.b_conversations:
        await c.post("/dashboard/conversations/delete", 404, chatId=chat_id)


async def case_review(c: Ctx) -> None:
    # B's conversation is lost on version 2 of B's image; A has nothing to review.
    text = await c.get("/dashboard/review")
    assert "Nothing to review" in text


async def case_place_conversation(c: Ctx) -> None:
    for chat_id in c.w.b_conversations:
        for version in ("", "1", "2"):
            await c.post("/dashboard/conversations/move", 404, chatId=chat_id, x="5", y="5",
                         version=version)


async def case_pages(c: Ctx) -> None:
    # Only A's page: neither B's pages nor any conversation's thread.
    for sort in ("recent", "oldest"):
        text = await c.get("/dashboard/pages", sort=sort)
        assert listed_images(text) == [SHARED_PAGE]
        assert "1 page with comments" in text


async def case_page_view(c: Ctx) -> None:
    for url_id in (B_ONLY_PAGE, c.w.b_window1, c.w.b_window2, c.w.a_window, SHARED_IMAGE):
        text = await c.get("/dashboard/pages/view", 404, urlId=url_id)
        assert "no page with that urlId" in alert_of(text)
    text = await c.get("/dashboard/pages/view", urlId=SHARED_PAGE)
    assert text.count('class="comment"') == 1
    assert f'data-comment-id="{c.w.a_page}"' in text


async def case_lock_page(c: Ctx) -> None:
    for url_id in (B_ONLY_PAGE, c.w.b_window1):
        await c.post("/dashboard/pages/lock", 404, urlId=url_id, locked="1")
    # The shared urlId is A's own page: its lock is A's channel, B's page stays open.
    for locked in ("1", "0"):
        await c.post("/dashboard/pages/lock", 303, urlId=SHARED_PAGE, locked=locked)


async def case_delete_comment(c: Ctx) -> None:
    for comment_id in c.w.b_comments:
        await c.post("/dashboard/comments/delete", 404, commentId=comment_id,
                     urlId=SHARED_PAGE, view="page")


async def case_moderation(c: Ctx) -> None:
    text = await c.get("/dashboard/moderation")
    assert "Nobody is banned." in text


async def case_ban_only_in_a(c: Ctx) -> None:
    await c.post("/dashboard/bans", 303, kind="anon", id="anon-b-author")
    await c.post("/dashboard/bans", 303, kind="user", id="b-user")
    bans = await services(c.app).moderation.list_bans(c.w.tenant_a)
    assert {(b.user_id, b.anon_user_id) for b in bans} == {(None, "anon-b-author"),
                                                           ("b-user", None)}


async def case_unban(c: Ctx) -> None:
    # B's ban is not A's to lift.
    await c.post("/dashboard/bans/remove", 404, kind="anon", id=B_BANNED)


async def case_email(c: Ctx) -> None:
    text = await c.get("/dashboard/email")
    assert "No address bounced." in text


async def case_forget_bounce(c: Ctx) -> None:
    # B's bounce is not A's to forget, even by its exact address.
    for address in (B_BOUNCED, B_BOUNCED.upper()):
        await c.post("/dashboard/email/bounces/forget", 404, address=address)


async def case_webhooks(c: Ctx) -> None:
    text = await c.get("/dashboard/webhooks")
    assert "No endpoints yet." in text


async def case_add_webhook(c: Ctx) -> None:
    text = await c.post("/dashboard/webhooks", 200, url="http://93.184.215.14/a-hook")
    assert "shown only now" in text
    [endpoint] = await services(c.app).webhooks.list(c.w.tenant_a)
    assert endpoint.url == "http://93.184.215.14/a-hook"


async def case_webhook_view(c: Ctx) -> None:
    text = await c.get("/dashboard/webhooks/view", 404, id=c.w.b_webhook)
    assert "No webhook endpoint with that id." in alert_of(text)


async def case_remove_webhook(c: Ctx) -> None:
    await c.post("/dashboard/webhooks/remove", 404, id=c.w.b_webhook)


async def case_test_webhook(c: Ctx) -> None:
    await c.post("/dashboard/webhooks/test", 404, id=c.w.b_webhook)


async def case_send_again(c: Ctx) -> None:
    text = await c.post("/dashboard/webhooks/send-again", 404, deliveryId=c.w.b_delivery)
    assert "No webhook delivery with that id." in alert_of(text)


async def case_static(c: Ctx) -> None:
    for name in ("dashboard.css", "dashboard.js"):
        c.check(await c.admin.get(f"/dashboard/static/{name}"), 200)


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/dashboard/review"): case_review,
    ("POST", "/dashboard/conversations/move"): case_place_conversation,
    ("GET", "/dashboard"): case_home,
    ("GET", "/dashboard/"): case_home,
    ("GET", "/dashboard/sign-in"): case_sign_in_page,
    ("POST", "/dashboard/sign-in"): case_sign_in,
    ("POST", "/dashboard/sign-out"): case_sign_out,
    ("GET", "/dashboard/usage"): case_usage,
    ("GET", "/dashboard/usage.csv"): case_usage_csv,
    ("GET", "/dashboard/images"): case_images,
    ("GET", "/dashboard/images/view"): case_image_view,
    ("POST", "/dashboard/images/lock"): case_lock,
    ("GET", "/dashboard/images/export"): case_export_image,
    ("GET", "/dashboard/images/export.csv"): case_export_site,
    ("GET", "/dashboard/images/export.jsonld"): case_export_site_annotations,
    ("GET", "/dashboard/images/reports.zip"): case_export_site_reports,
    ("POST", "/dashboard/conversations/delete"): case_delete_conversation,
    ("GET", "/dashboard/pages"): case_pages,
    ("GET", "/dashboard/pages/view"): case_page_view,
    ("POST", "/dashboard/pages/lock"): case_lock_page,
    ("POST", "/dashboard/comments/delete"): case_delete_comment,
    ("GET", "/dashboard/moderation"): case_moderation,
    ("POST", "/dashboard/bans"): case_ban_only_in_a,
    ("POST", "/dashboard/bans/remove"): case_unban,
    ("GET", "/dashboard/email"): case_email,
    ("POST", "/dashboard/email/bounces/forget"): case_forget_bounce,
    ("GET", "/dashboard/webhooks"): case_webhooks,
    ("POST", "/dashboard/webhooks"): case_add_webhook,
    ("GET", "/dashboard/webhooks/view"): case_webhook_view,
    ("POST", "/dashboard/webhooks/remove"): case_remove_webhook,
    ("POST", "/dashboard/webhooks/test"): case_test_webhook,
    ("POST", "/dashboard/webhooks/send-again"): case_send_again,
    ("GET", "/dashboard/static/{name}"): case_static,
}


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_tenant_a_admin_cannot_see_or_change_tenant_b(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock, route: tuple[str, str]
) -> None:
    w = await build_world(app, client, clock)
    rows_before = await tenant_rows(app, B)
    reads_before = await tenant_b_reads(client, w)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as admin:
        csrf = await sign_in(admin, A, w.tenant_a.api_secret)
        ctx = Ctx(app, admin, w, csrf)
        await CASES[route](ctx)
        assert ctx.attempts > 0
    assert await tenant_rows(app, B) == rows_before
    assert await tenant_b_reads(client, w) == reads_before


def test_every_dashboard_route_has_an_isolation_case() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    routes = {(method, path) for path, methods in api_routes(app)
              if path.startswith("/dashboard") for method in methods if method != "HEAD"}
    assert ("GET", "/dashboard/usage") in routes
    assert not routes - set(CASES), f"without a case: {sorted(routes - set(CASES))}"
    assert not set(CASES) - routes, f"stale cases: {sorted(set(CASES) - routes)}"

