"""The dashboard's webhooks page: add (the secret shown once), refuse, test, see the
deliveries with their answers, send one again, remove; a disabled endpoint says so."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx

from imagechat.store import webhooks
from tests.helpers import make_tenant, services
from tests.integration.conftest import AppFactory
from tests.integration.dashboard_helpers import alert_of, sign_in
from tests.integration.webhook_helpers import eventually, new_receiver, running

SECRET = "hooks-dashboard-secret"


async def test_add_test_send_again_and_remove(start_app: AppFactory, tmp_path: Path) -> None:
    app = await start_app()
    tenant = await make_tenant(app, "hooks", api_secret=SECRET)
    receiver = new_receiver(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as admin:
        csrf = await sign_in(admin, "hooks", SECRET)
        refused = await admin.post("/dashboard/webhooks",
                                   data={"csrf": csrf, "url": "ftp://example.com/"})
        assert refused.status_code == 400
        assert "Only http:// and https://" in alert_of(refused.text)

        added = await admin.post("/dashboard/webhooks", data={
            "csrf": csrf, "url": receiver.url, "event": ["test", "mention"]})
        assert added.status_code == 400  # "test" is no event type to subscribe to
        added = await admin.post("/dashboard/webhooks", data={
            "csrf": csrf, "url": receiver.url, "event": ["mention", "comment.created"]})
        assert added.status_code == 200, added.text
        found = re.search(r'<code class="secret-value">([^<]+)</code>', added.text)
        assert found, added.text
        secret = html.unescape(found.group(1))
        [endpoint] = await services(app).webhooks.list(tenant)
        assert endpoint.events == ("mention", "comment.created")
        page = (await admin.get("/dashboard/webhooks")).text
        assert secret not in page and receiver.url in page and "active" in page

        with running(receiver, secret, "--answers", "200"):
            tested = await admin.post("/dashboard/webhooks/test",
                                      data={"csrf": csrf, "id": endpoint.id})
            assert tested.status_code == 303
            view = (await admin.get(tested.headers["location"])).text
            assert "A test event was sent" in view
            [row] = re.findall(r'<tr data-delivery-id="(\w+)">(.*?)</tr>', view, re.S)
            delivery_id, cells = row
            assert "delivered" in cells and "answered 200" in cells and ">200<" in cells
            again = await admin.post("/dashboard/webhooks/send-again",
                                     data={"csrf": csrf, "deliveryId": delivery_id})
            assert again.status_code == 303

            def twice() -> bool:
                return len(receiver.records()) == 2

            await eventually(twice, 10, what="the delivery sent again")
        assert {r["delivery"] for r in receiver.records()} == {delivery_id}

        removed = await admin.post("/dashboard/webhooks/remove",
                                   data={"csrf": csrf, "id": endpoint.id})
        assert removed.status_code == 303
        page = (await admin.get(removed.headers["location"])).text
        assert "The endpoint was removed." in page and "No endpoints yet." in page
        # Forms need the session's CSRF token.
        forged = await admin.post("/dashboard/webhooks", data={"url": receiver.url})
        assert forged.status_code == 403


async def test_a_disabled_endpoint_is_flagged(start_app: AppFactory, tmp_path: Path) -> None:
    app = await start_app()
    tenant = await make_tenant(app, "hooks", api_secret=SECRET)
    added = await services(app).webhooks.add(tenant, new_receiver(tmp_path).url)
    async with services(app).db.write() as conn:
        await webhooks.disable(conn, added.endpoint.id, services(app).clock.now_ms(),
                               "Every delivery failed for 24 h; the last one: no answer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as admin:
        await sign_in(admin, "hooks", SECRET)
        page = (await admin.get("/dashboard/webhooks")).text
        assert '<strong class="disabled">disabled</strong>' in page
        assert "Every delivery failed for 24 h" in page
        view = (await admin.get("/dashboard/webhooks/view",
                                params={"id": added.endpoint.id})).text
        assert "disabled: Every delivery failed" in view
