"""Webhook deliveries to a real receiver, a separate process that checks every signature
with the standard library alone (webhook_receiver.py): retries keep the delivery's id, an
endpoint that never answers is disabled, and the address is checked again at send time.
The server runs in this process on its real clock with the retry schedule shortened."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from imagechat.domain.actor import Actor
from imagechat.domain.ids import new_id
from imagechat.domain.models import Delivery, Tenant, WebhookEndpoint
from imagechat.domain.webhooks import signature
from imagechat.services.comment_drafts import CommentDraft
from imagechat.store import webhooks
from tests.helpers import make_tenant, services
from tests.integration.conftest import AppFactory
from tests.integration.test_metrics import Samples
from tests.integration.webhook_helpers import (
    Receiver,
    eventually,
    listening,
    new_receiver,
    running,
)
from tests.server_process import free_port

WAIT_SECS = 20


async def _comment(app: FastAPI, tenant: Tenant, text: str) -> None:
    await services(app).comments.post(
        tenant, Actor(tenant_id=tenant.id, anon_user_id="anon-ann"), "article",
        CommentDraft(text=text, commenter_name="Ann"), None)


async def _deliveries(app: FastAPI, tenant: Tenant, endpoint_id: str) -> list[Delivery]:
    return await services(app).webhooks.deliveries(tenant, endpoint_id)


async def _endpoint(app: FastAPI, tenant: Tenant, endpoint_id: str) -> WebhookEndpoint:
    return await services(app).webhooks.get(tenant, endpoint_id)


def _same_delivery_every_time(receiver: Receiver) -> str:
    records = receiver.records()
    assert records and all(r["valid"] for r in records), records
    ids = {r["delivery"] for r in records}
    assert len(ids) == 1, ids
    assert all(r["body"]["id"] == r["delivery"] for r in records)
    return ids.pop()


async def test_500_twice_then_200_is_one_delivery_in_three_attempts(
    start_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = await start_app(metrics_enabled=True)
    tenant = await make_tenant(app, "hooks")
    receiver = new_receiver(tmp_path)
    added = await services(app).webhooks.add(tenant, receiver.url, ["comment.created"])
    with running(receiver, added.secret, "--answers", "500,500,200"):
        await _comment(app, tenant, "hello")

        async def delivered() -> bool:
            found = await _deliveries(app, tenant, added.endpoint.id)
            return bool(found) and found[0].status == "delivered"

        await eventually(delivered, WAIT_SECS, what="the delivery")
        await asyncio.sleep(0.5)  # nothing more arrives after the success
        records = receiver.records()
    assert [r["status"] for r in records] == [500, 500, 200]
    delivery_id = _same_delivery_every_time(receiver)
    body = records[0]["body"]
    assert body["type"] == "comment.created" and records[0]["event"] == "comment.created"
    assert body["data"]["comment"]["comment"] == "hello"
    [delivery] = await _deliveries(app, tenant, added.endpoint.id)
    assert (delivery.id, delivery.attempts, delivery.last_status_code) == (delivery_id, 3, 200)
    assert delivery.last_response == "answered 200"
    endpoint = await _endpoint(app, tenant, added.endpoint.id)
    assert endpoint.failing_since is None and endpoint.disabled_at is None
    # The retries were logged, without the secret or what was sent.
    assert f"delivery {delivery_id}" in caplog.text
    assert added.secret not in caplog.text and "hello" not in caplog.text
    # And counted.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        metrics = Samples((await client.get("/metrics")).text)
    webhook = {"kind": "webhook"}
    assert metrics("imagechat_outbox_attempts_total", result="retry", **webhook) == 2
    assert metrics("imagechat_outbox_attempts_total", result="delivered", **webhook) == 1
    assert metrics("imagechat_outbox_failures_total", **webhook) == 0
    assert metrics("imagechat_outbox_depth", **webhook) == 0
    assert metrics("imagechat_outbox_attempt_duration_seconds_count", **webhook) == 3
    assert metrics("imagechat_outbox_delivery_latency_seconds_count", **webhook) == 1


async def test_an_endpoint_that_never_answers_is_retried_then_disabled(
    start_app: AppFactory, tmp_path: Path
) -> None:
    # Each attempt waits out the timeout; the endpoint fails for 1.5 s, then is disabled.
    app = await start_app(webhook_timeout_secs=0.3, webhook_disable_after_hours=1.5 / 3600)
    tenant = await make_tenant(app, "hooks")
    receiver = new_receiver(tmp_path)
    added = await services(app).webhooks.add(tenant, receiver.url)
    with running(receiver, added.secret, "--hang"):
        await _comment(app, tenant, "anyone there?")

        async def disabled() -> bool:
            return (await _endpoint(app, tenant, added.endpoint.id)).disabled_at is not None

        await eventually(disabled, WAIT_SECS, what="disabling")
        endpoint = await _endpoint(app, tenant, added.endpoint.id)
        assert "Every delivery failed" in endpoint.disabled_reason
        assert "no answer within 0.3 s" in endpoint.disabled_reason
        [delivery] = await _deliveries(app, tenant, added.endpoint.id)
        assert delivery.status == "failed" and delivery.attempts >= 3
        assert "no answer within" in delivery.last_error
        assert len(receiver.records()) == delivery.attempts
        _same_delivery_every_time(receiver)
        # A disabled endpoint gets no more events.
        await _comment(app, tenant, "still there?")
        assert len(await _deliveries(app, tenant, added.endpoint.id)) == 1
    listed = await services(app).webhooks.list(tenant)
    assert [e.disabled_at is not None for e in listed] == [True]


async def test_targets_refused_at_send_time_fail_at_once(
    start_app: AppFactory, tmp_path: Path
) -> None:
    """The address is checked again when sending (a name may resolve elsewhere than when
    the endpoint was added): loopback, link-local, private, and a name resolving to
    loopback are refused before any connection, the delivery failed with the reason."""
    app = await start_app(outbound_allow_private=False)
    tenant = await make_tenant(app, "hooks")
    receiver = new_receiver(tmp_path)
    urls = [receiver.url, f"http://[::1]:{receiver.port}/hook",
            "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/hook",
            f"http://localhost:{receiver.port}/hook"]
    endpoints = [WebhookEndpoint(
        id=new_id(), tenant_id=tenant.id, url=url, events=(), secret="s",
        created_at=services(app).clock.now_ms(), failing_since=None, disabled_at=None,
        disabled_reason="") for url in urls]
    async with services(app).db.write() as conn:  # as if they had resolved elsewhere then
        for endpoint in endpoints:
            await webhooks.add(conn, endpoint)
    with running(receiver, "s"):
        await _comment(app, tenant, "hello")

        async def failed() -> bool:
            found = [await _deliveries(app, tenant, e.id) for e in endpoints]
            return all(f and f[0].status == "failed" for f in found)

        await eventually(failed, WAIT_SECS, what="the refusals")
        assert receiver.records() == []
    for endpoint in endpoints:
        [delivery] = await _deliveries(app, tenant, endpoint.id)
        assert delivery.attempts == 1
        assert "a private or local address" in delivery.last_error, delivery.last_error
        assert (await _endpoint(app, tenant, endpoint.id)).failing_since is not None


async def test_a_redirect_to_loopback_is_not_followed(
    start_app: AppFactory, tmp_path: Path
) -> None:
    app = await start_app()
    tenant = await make_tenant(app, "hooks")
    inner = new_receiver(tmp_path)  # what the redirect points at
    outer = new_receiver(tmp_path)
    added = await services(app).webhooks.add(tenant, outer.url)
    with running(inner, added.secret), running(
            outer, added.secret, "--answers", "302", "--location", inner.url):
        await _comment(app, tenant, "hello")

        async def answered() -> bool:
            found = await _deliveries(app, tenant, added.endpoint.id)
            return bool(found) and found[0].last_status_code == 302

        await eventually(answered, WAIT_SECS, what="the redirect")
        await asyncio.sleep(0.3)
        assert inner.records() == []
        # Read while the receivers run: once they stop, the next try fails otherwise.
        delivery = (await _deliveries(app, tenant, added.endpoint.id))[0]
    assert delivery.status == "pending"  # a redirect is a failure, retried as any
    assert "redirect" in delivery.last_error and "not followed" in delivery.last_error


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver(secret: str, port: int) -> str:
    """The README's receiver, with this endpoint's secret and port."""
    code = README.read_text().split("<!-- receiver -->\n```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 15  # a short example stays short
    return (code.replace('b"the endpoint\'s secret"', repr(secret.encode()))
            .replace("8080", str(port)))


async def test_the_readme_receiver_verifies_deliveries_and_refuses_forgeries(
    start_app: AppFactory, tmp_path: Path
) -> None:
    app = await start_app()
    tenant = await make_tenant(app, "hooks")
    port = free_port()
    added = await services(app).webhooks.add(tenant, f"http://127.0.0.1:{port}/")
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver(added.secret, port))
    output = tmp_path / "receiver.out"
    with listening([sys.executable, str(script)], port, stdout=output):
        await _comment(app, tenant, "hello")

        async def delivered() -> bool:
            found = await _deliveries(app, tenant, added.endpoint.id)
            return bool(found) and found[0].status == "delivered"

        await eventually(delivered, WAIT_SECS, what="the delivery")
        [delivery] = await _deliveries(app, tenant, added.endpoint.id)
        assert output.read_text().split() == [delivery.id, "comment.created"]

        body = b'{"id": "forged", "type": "comment.created"}'
        now = int(time.time())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async def status(secret: str, t: int) -> int:
                header = signature(secret, t, body)
                response = await client.post("/", content=body,
                                             headers={"ImageChat-Signature": header})
                return response.status_code

            assert await status(added.secret, now) == 200
            assert await status("another secret", now) == 400
            assert await status(added.secret, now - 301) == 400  # a replay, too old
