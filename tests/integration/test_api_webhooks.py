"""/api/v1/webhooks: a site's backend adds endpoints (refused targets are a 400 with the
reason), lists them without their secrets, removes them, tests them and sends deliveries
again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import make_tenant
from tests.integration.conftest import AppFactory
from tests.integration.webhook_helpers import eventually, new_receiver, running

SECRET = "hooks-api-secret"
KEY = {"X-API-Key": SECRET}
API = {"tenantId": "hooks"}
# Public, and a literal: adding it looks nothing up; these tests never send to it.
PUBLIC = "http://93.184.215.14/hook"


@pytest.fixture
async def hooks(app: FastAPI) -> None:
    await make_tenant(app, "hooks", api_secret=SECRET)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "success"
    return body


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://[::1]:8080/hook", "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/hook", "http://localhost:8000/hook", "http://[::ffff:127.0.0.1]/",
])
async def test_private_targets_are_refused_when_added(
    client: httpx.AsyncClient, hooks: None, url: str
) -> None:
    """Loopback, link-local (cloud metadata), private, and a name resolving to loopback."""
    response = await client.post("/api/v1/webhooks", params=API, headers=KEY,
                                 json={"url": url})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "target-refused"
    assert "private or local address" in body["reason"]
    assert "IMAGECHAT_OUTBOUND_ALLOW_PRIVATE" in body["reason"]
    assert (await _ok(await client.get("/api/v1/webhooks", params=API,
                                       headers=KEY)))["webhooks"] == []


@pytest.mark.parametrize(("body", "code"), [
    ({"url": "ftp://example.com/x"}, "target-refused"),
    ({"url": "file:///etc/passwd"}, "target-refused"),
    ({"url": "http://user:pw@93.184.215.14/"}, "target-refused"),
    ({"url": ""}, "missing-field"),
    ({"url": PUBLIC, "events": ["comment.created", "no.such.event"]}, "invalid-event-type"),
])
async def test_bad_endpoints_are_refused(
    client: httpx.AsyncClient, hooks: None, body: dict[str, Any], code: str
) -> None:
    response = await client.post("/api/v1/webhooks", params=API, headers=KEY, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


async def test_a_site_has_at_most_twenty_endpoints(
    client: httpx.AsyncClient, hooks: None
) -> None:
    """The outbox's bound: a site's writes fan out to at most this many endpoints."""
    for n in range(20):
        await _ok(await client.post("/api/v1/webhooks", params=API, headers=KEY,
                                    json={"url": f"{PUBLIC}/{n}"}))
    response = await client.post("/api/v1/webhooks", params=API, headers=KEY,
                                 json={"url": f"{PUBLIC}/20"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "too-many-endpoints"
    listed = (await _ok(await client.get("/api/v1/webhooks", params=API,
                                         headers=KEY)))["webhooks"]
    assert len(listed) == 20


async def test_an_endpoint_is_added_listed_without_its_secret_and_removed(
    client: httpx.AsyncClient, hooks: None
) -> None:
    added = await _ok(await client.post("/api/v1/webhooks", params=API, headers=KEY, json={
        "url": PUBLIC, "events": ["mention", "comment.created", "mention"]}))
    secret, webhook = added["secret"], added["webhook"]
    assert len(secret) >= 32
    assert (webhook["url"], webhook["events"], webhook["disabled"]) == (
        PUBLIC, ["mention", "comment.created"], False)
    everything = await _ok(await client.post("/api/v1/webhooks", params=API, headers=KEY,
                                             json={"url": PUBLIC}))
    assert everything["webhook"]["events"] == []  # every type
    listed = await client.get("/api/v1/webhooks", params=API, headers=KEY)
    assert sorted(w["id"] for w in (await _ok(listed))["webhooks"]) == sorted([
        webhook["id"], everything["webhook"]["id"]])
    assert secret not in listed.text and everything["secret"] not in listed.text
    assert (await _ok(await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries",
                                       params=API, headers=KEY)))["deliveries"] == []

    await _ok(await client.delete(f"/api/v1/webhooks/{webhook['id']}", params=API,
                                  headers=KEY))
    for method, path in (("DELETE", f"/api/v1/webhooks/{webhook['id']}"),
                         ("POST", f"/api/v1/webhooks/{webhook['id']}/test"),
                         ("GET", f"/api/v1/webhooks/{webhook['id']}/deliveries")):
        response = await client.request(method, path, params=API, headers=KEY)
        assert response.status_code == 404, (method, path)
    listed = await _ok(await client.get("/api/v1/webhooks", params=API, headers=KEY))
    assert [w["id"] for w in listed["webhooks"]] == [everything["webhook"]["id"]]


async def test_test_answers_with_the_outcome_and_send_again_keeps_the_id(
    start_app: AppFactory, tmp_path: Path
) -> None:
    app = await start_app()
    await make_tenant(app, "hooks", api_secret=SECRET)
    receiver = new_receiver(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        added = await _ok(await client.post("/api/v1/webhooks", params=API, headers=KEY,
                                            json={"url": receiver.url}))
        hook = added["webhook"]["id"]
        with running(receiver, added["secret"], "--answers", "200"):
            tested = await _ok(await client.post(f"/api/v1/webhooks/{hook}/test", params=API,
                                                 headers=KEY))
            delivery = tested["delivery"]
            assert (delivery["event"], delivery["status"], delivery["attempts"],
                    delivery["responseCode"], delivery["response"]) == (
                "test", "delivered", 1, 200, "answered 200")
            again = await _ok(await client.post(
                f"/api/v1/webhook-deliveries/{delivery['id']}/send-again", params=API,
                headers=KEY))
            assert (again["delivery"]["id"], again["delivery"]["status"]) == (
                delivery["id"], "pending")

            def twice() -> bool:
                return len(receiver.records()) == 2

            await eventually(twice, 10, what="the second delivery")
            records = receiver.records()
        assert {r["delivery"] for r in records} == {delivery["id"]}
        assert all(r["valid"] and r["event"] == "test" for r in records)
        assert records[0]["body"]["data"] == {"endpointId": hook}

        async def delivered_twice() -> bool:
            listed = await _ok(await client.get(f"/api/v1/webhooks/{hook}/deliveries",
                                                params=API, headers=KEY))
            found = listed["deliveries"]
            return [(d["status"], d["attempts"]) for d in found] == [("delivered", 2)]

        await eventually(delivered_twice, 10, what="the delivery list")
        # The endpoint removed, its deliveries cannot be sent again.
        await _ok(await client.delete(f"/api/v1/webhooks/{hook}", params=API, headers=KEY))
        response = await client.post(
            f"/api/v1/webhook-deliveries/{delivery['id']}/send-again", params=API, headers=KEY)
        assert response.status_code == 409 and response.json()["code"] == "endpoint-removed"
