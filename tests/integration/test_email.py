"""Email digests against a real SMTP server (aiosmtpd, its own process), on SQLite and
PostgreSQL: the requests are the widget's (post a comment with a mention, mark a
notification read), the digest window passes on the test's clock, and the outbox worker
is run one round at a time so that "nothing was sent" is a fact, not a timeout. The last
test runs `imagechat serve` itself, its worker on its own schedule."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from imagechat.app import create_app
from imagechat.auth import sso
from imagechat.domain.clock import FixedClock, SystemClock
from imagechat.outbound.smtp import SmtpTransport
from imagechat.services.outbox import DeliveryWorker
from imagechat.services.tenants import TenantService
from imagechat.settings import Settings
from imagechat.store import outbox
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade
from imagechat.store.tables import email_bounces, users
from tests.conftest import _empty_postgres
from tests.helpers import make_tenant, services
from tests.integration.dashboard_helpers import sign_in
from tests.server_process import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
TENANT = "studio"
SECRET = "email-secret"
SENDER = "ImageChat <chat@imagechat.test>"
PAGE = "https://studio.example/review/1"
WINDOW_MS = 10 * 60_000  # the default digest window


@dataclass
class Sink:
    """The SMTP server's maildir and its log of recipients asked for."""

    port: int
    directory: Path

    def files(self) -> list[Path]:
        """The maildir's messages in the order they arrived: by the Q counter of their
        names, as the names' microseconds are not zero-padded and do not sort as text."""
        def arrival(path: Path) -> int:
            found = re.search(r"Q(\d+)", path.name)
            assert found, path.name
            return int(found.group(1))
        return sorted((self.directory / "new").glob("*"), key=arrival)

    def messages(self, to: str) -> list[EmailMessage]:
        found = []
        for path in self.files():
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            assert isinstance(message, EmailMessage)
            if to in str(message["To"]):
                found.append(message)
        return found

    def raw(self, to: str) -> list[bytes]:
        return [path.read_bytes() for path in self.files()
                if to.encode() in path.read_bytes().partition(b"\r\n\r\n")[0]]

    def asked_for(self, address: str) -> int:
        log = self.directory / "rcpt.log"
        return log.read_text().splitlines().count(address) if log.exists() else 0


@pytest.fixture(scope="module")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    directory = tmp_path_factory.mktemp("maildir")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "tests.smtp_sink.Collector", str(directory)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    out = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"the SMTP server did not start:\n{out}") from None
                time.sleep(0.05)
        yield Sink(port, directory)
    finally:
        process.terminate()
        process.wait(timeout=10)


def address(name: str) -> str:
    """An address no other test uses (the SMTP server lives for the whole module)."""
    return f"{name}-{uuid.uuid4().hex[:8]}@example.test"


@dataclass
class Mail:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FixedClock
    sink: Sink

    @property
    def worker(self) -> DeliveryWorker:
        found: DeliveryWorker = self.app.state.outbox
        return found

    def token(self, user_id: str, name: str, **extra: Any) -> str:
        user = {"id": user_id, "username": name, **extra}
        return json.dumps(sso.make_token(SECRET, user, self.clock.now_ms() - 1000))

    async def conversation(self, token: str) -> dict[str, Any]:
        response = await self.client.post(f"/comment-image-chats/{TENANT}", json={
            "urlId": "mockup.png", "x": 30, "y": 40, "comment": "Header too big",
            "url": PAGE, "sso": token})
        assert response.status_code == 200, response.text
        conversation: dict[str, Any] = response.json()["chat"]
        return conversation

    async def post(self, thread: str, token: str, text: str, **extra: Any) -> None:
        response = await self.client.post(f"/comments/{TENANT}", params={"urlId": thread},
                                          json={"comment": text, "url": PAGE, "sso": token,
                                                **extra})
        assert response.status_code == 200, response.text

    async def mention(self, thread: str, token: str, user_id: str, name: str,
                      text: str) -> None:
        # As the widget sends it: the user picked from the suggestions, and their tag.
        await self.post(thread, token, f"@{name} {text}",
                        mentions=[{"id": user_id, "tag": f"@{name}"}])

    async def emails_for(self, user_id: str) -> list[Any]:
        async with services(self.app).db.read() as conn:
            return await outbox.recent(conn, TENANT, kind="email", target=f"u:{user_id}",
                                       limit=50)

    async def after(self, ms: int) -> int:
        """Let `ms` pass, then one round of the worker: how many deliveries it tried."""
        self.clock.advance(ms)
        return await self.worker.run_once()

    async def wants_email(self, user_id: str) -> bool:
        async with services(self.app).db.read() as conn:
            row = (await conn.execute(select(users.c.email_notifications).where(
                users.c.tenant_id == TENANT, users.c.external_id == user_id))).one()
        return bool(row.email_notifications)


@pytest.fixture
async def mail(database_url: str, clock: FixedClock, smtp_sink: Sink) -> AsyncIterator[Mail]:
    if database_url.startswith("postgresql"):
        await _empty_postgres(database_url)
    settings = Settings(database_url=database_url, public_url="http://testserver",
                        smtp_url=SecretStr(f"smtp://127.0.0.1:{smtp_sink.port}"),
                        email_from=SENDER)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        # The test runs the worker's rounds itself.
        await app.state.outbox.stop()
        await make_tenant(app, TENANT, api_secret=SECRET, origins=["https://studio.example"])
        yield Mail(app, client, clock, smtp_sink)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def unsubscribe_url(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


async def test_a_mention_is_one_email_after_the_window_with_a_link_back_and_unsubscribe(
    mail: Mail
) -> None:
    ann_address = address("ann")
    ann = mail.token("ann", "Ann", email=ann_address)
    bo = mail.token("bo", "Bo", email=address("bo"))
    conversation = await mail.conversation(ann)
    await mail.mention(conversation["windowUrlId"], bo, "ann", "Ann", "the logo <b>overlaps</b>")
    assert await mail.after(WINDOW_MS - 1000) == 0
    assert mail.sink.messages(ann_address) == []
    assert await mail.after(1000) == 1
    [message] = mail.sink.messages(ann_address)
    assert message["Subject"] == "Bo mentioned you on Studio"
    assert message["From"] == SENDER
    text, html = text_of(message), html_of(message)
    assert "> @Ann the logo overlaps" in text
    # Back to the comment's page with its conversation open, in both parts.
    link = f"{PAGE}#imagechat={conversation['_id']}"
    assert f"Open the conversation: {link}" in text
    assert f'href="{link}"' in html and "<blockquote" in html
    assert "<img" not in html and "src=" not in html  # nothing fetched when opened
    listed = await mail.client.get(f"/comment-image-chats/{TENANT}",
                                   params={"urlId": "mockup.png"})
    assert [c["_id"] for c in listed.json()["conversations"]] == [conversation["_id"]]
    # Delivered once, and the notification is marked emailed: no second email.
    [delivery] = await mail.emails_for("ann")
    assert delivery.status == "delivered"
    assert await mail.after(WINDOW_MS) == 0

    # RFC 8058 one-click unsubscribe. A GET (a link scanner) only shows the button.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As it went on the wire: a link in angle brackets, not encoded words.
    [raw] = mail.sink.raw(ann_address)
    assert b"\nList-Unsubscribe: <http://testserver/email/unsubscribe?tenantId=" in raw
    url = unsubscribe_url(message)
    assert url.startswith("http://testserver/email/unsubscribe?")
    page = await mail.client.get(url)
    assert page.status_code == 200 and "<button" in page.text
    assert await mail.wants_email("ann")
    # An altered link, or one made for another user, changes nothing.
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    for forged in ({**query, "user": "bo"}, {**query, "sig": query["sig"][:-2] + "AA"},
                   {**query, "tenantId": "demo"}):
        response = await mail.client.post(f"/email/unsubscribe?{urlencode(forged)}",
                                          content=b"List-Unsubscribe=One-Click",
                                          headers={"content-type":
                                                   "application/x-www-form-urlencoded"})
        assert response.status_code == 403, forged
        refused = await mail.client.get(f"/email/unsubscribe?{urlencode(forged)}")
        assert refused.status_code == 403 and "<button" not in refused.text
    assert await mail.wants_email("ann") and await mail.wants_email("bo")
    response = await mail.client.post(url, content=b"List-Unsubscribe=One-Click", headers={
        "content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert not await mail.wants_email("ann")
    # Unsubscribed: a new mention plans no email.
    await mail.mention(conversation["windowUrlId"], bo, "ann", "Ann", "and the footer")
    assert len(await mail.emails_for("ann")) == 1


async def test_three_mentions_in_the_window_are_one_email_and_a_later_one_another(
    mail: Mail
) -> None:
    ann_address = address("ann")
    ann = mail.token("ann", "Ann", email=ann_address)
    conversation = await mail.conversation(ann)
    for n, (user_id, name) in enumerate((("bo", "Bo"), ("cy", "Cy"), ("bo", "Bo"))):
        await mail.mention(conversation["windowUrlId"], mail.token(user_id, name), "ann", "Ann",
                           f"point {n}")
        mail.clock.advance(60_000)
    assert len(await mail.emails_for("ann")) == 1  # one digest planned, not three
    assert await mail.after(WINDOW_MS) == 1
    [message] = mail.sink.messages(ann_address)
    assert message["Subject"] == "3 new messages on Studio"
    assert [line for line in text_of(message).splitlines() if line.startswith("> ")] == [
        "> @Ann point 0", "> @Ann point 1", "> @Ann point 2"]
    # A mention after that email starts a new window, and its email quotes only it.
    await mail.mention(conversation["windowUrlId"], mail.token("cy", "Cy"), "ann", "Ann", "point 3")
    assert await mail.after(WINDOW_MS) == 1
    later = mail.sink.messages(ann_address)[1:]
    assert [text_of(m).count("> @Ann") for m in later] == [1]
    assert later[0]["Subject"] == "Cy mentioned you on Studio"


async def test_mentions_read_in_the_widget_first_are_not_emailed(mail: Mail) -> None:
    ann_address = address("ann")
    ann = mail.token("ann", "Ann", email=ann_address)
    conversation = await mail.conversation(ann)
    for text in ("one", "two"):
        await mail.mention(conversation["windowUrlId"], mail.token("bo", "Bo"), "ann", "Ann", text)
    # The widget's bell: list the notifications, mark each read.
    listed = await mail.client.get("/user-notifications",
                                   params={"tenantId": TENANT, "sso": ann})
    for note in listed.json()["notifications"]:
        response = await mail.client.post(f"/user-notifications/{note['_id']}/mark/read",
                                          params={"tenantId": TENANT, "sso": ann})
        assert response.status_code == 200, response.text
    assert await mail.after(WINDOW_MS) == 1
    assert mail.sink.messages(ann_address) == []
    [delivery] = await mail.emails_for("ann")
    assert delivery.status == "delivered" and delivery.last_response.startswith("not sent")


async def test_an_address_refused_for_good_is_recorded_and_never_tried_again(
    mail: Mail
) -> None:
    dead = address("bounce")
    ann = mail.token("ann", "Ann", email=dead)
    conversation = await mail.conversation(ann)
    await mail.mention(conversation["windowUrlId"], mail.token("bo", "Bo"), "ann", "Ann", "hello?")
    assert await mail.after(WINDOW_MS) == 1
    [delivery] = await mail.emails_for("ann")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 550)
    assert dead not in delivery.last_error
    assert mail.sink.asked_for(dead) == 1
    async with services(mail.app).db.read() as conn:
        rows = (await conn.execute(select(email_bounces))).all()
    assert [(r.tenant_id, r.address, r.code) for r in rows] == [(TENANT, dead, 550)]
    # Not retried, and no new email is planned for that address.
    assert await mail.after(24 * 3_600_000) == 0
    await mail.mention(conversation["windowUrlId"], mail.token("bo", "Bo"), "ann", "Ann", "again")
    assert len(await mail.emails_for("ann")) == 1
    assert mail.sink.asked_for(dead) == 1
    # The dashboard shows it, and can forget it.
    tenant = await services(mail.app).tenants.get(TENANT)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mail.app),
                                 base_url="http://testserver") as admin:
        csrf = await sign_in(admin, TENANT, tenant.api_secret)
        page = await admin.get("/dashboard/email")
        assert page.status_code == 200 and dead in page.text
        response = await admin.post("/dashboard/email/bounces/forget",
                                    data={"csrf": csrf, "address": dead})
        assert response.status_code == 303
        assert "No address bounced." in (await admin.get("/dashboard/email")).text


async def test_a_refusal_for_now_is_retried_and_a_password_never_goes_in_the_clear(
    mail: Mail
) -> None:
    later = address("later")
    conversation = await mail.conversation(mail.token("ann", "Ann", email=later))
    await mail.mention(conversation["windowUrlId"], mail.token("bo", "Bo"), "ann", "Ann", "soon")
    assert await mail.after(WINDOW_MS) == 1
    [delivery] = await mail.emails_for("ann")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 451)
    assert delivery.next_attempt_at > mail.clock.now_ms()
    async with services(mail.app).db.read() as conn:
        assert (await conn.execute(select(email_bounces))).all() == []
    # This SMTP server offers no STARTTLS: a login is not even tried.
    transport = SmtpTransport("127.0.0.1", mail.sink.port, implicit_tls=False,
                              username="chat", password="secret")
    note = EmailMessage()
    note["Subject"] = "x"
    note.set_content("x")
    sent = await transport.send(note, sender="chat@imagechat.test", recipient=later)
    assert not sent.ok and "no TLS" in sent.error and not sent.permanent
    assert mail.sink.asked_for(later) == 1


async def test_who_gets_email_replies_in_their_language_and_the_sites_switch(
    mail: Mail
) -> None:
    ann_address = address("ann")
    ann = mail.token("ann", "Ann", email=ann_address, locale="pl-PL")
    dee = mail.token("dee", "Dee")  # no address
    conversation = await mail.conversation(ann)
    thread = conversation["windowUrlId"]
    await mail.post(thread, dee, "I agree")
    assert await mail.after(WINDOW_MS) == 1
    [message] = mail.sink.messages(ann_address)
    assert message["Subject"] == "Odpowiedź od Dee w Studio"
    assert message["Content-Language"] == "pl"
    assert "Otwórz rozmowę" in text_of(message) and 'lang="pl"' in html_of(message)
    # Replies in a thread Ann and Dee wrote in: only Ann has an address.
    await mail.post(thread, mail.token("cy", "Cy", email=address("cy")), "Fixed in v2")
    assert (len(await mail.emails_for("ann")), len(await mail.emails_for("dee"))) == (2, 0)
    # The site turns email off: nothing more is planned.
    await services(mail.app).tenants.update(TENANT, emails_enabled=False)
    await mail.post(thread, mail.token("cy", "Cy"), "Fixed in v3")
    assert len(await mail.emails_for("ann")) == 2


async def _studio(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db.writer, database_url)
        await TenantService(db, SystemClock()).create(
            "Studio", tenant_id=TENANT, api_secret=SECRET, origins=["https://studio.example"])
    finally:
        await db.dispose()


async def test_the_server_sends_a_digest_when_its_window_ends(
    sqlite_url: str, smtp_sink: Sink, tmp_path: Path
) -> None:
    await _studio(sqlite_url)
    port = free_port()
    # The site's user ids are addresses: logs must not show them either.
    ann_id = f"{uuid.uuid4().hex[:8]}@ids.example"
    env = {"IMAGECHAT_SMTP_URL": f"smtp://127.0.0.1:{smtp_sink.port}",
           "IMAGECHAT_EMAIL_FROM": SENDER, "IMAGECHAT_EMAIL_DIGEST_MINUTES": "0.02",
           "IMAGECHAT_PUBLIC_URL": f"http://127.0.0.1:{port}/"}
    ann_address = address("ann")
    clock = SystemClock()

    def token(user_id: str, name: str, **extra: Any) -> str:
        return json.dumps(sso.make_token(SECRET, {"id": user_id, "username": name, **extra},
                                         clock.now_ms() - 1000))

    log = tmp_path / "server.log"
    with log.open("wb") as output, running_server(sqlite_url, port=port, env=env,
                                                  output=output) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.post(f"/comment-image-chats/{TENANT}", json={
                "urlId": "mockup.png", "x": 1, "y": 2, "comment": "Look", "url": PAGE,
                "sso": token(ann_id, "Ann", email=ann_address)})
            conversation = response.json()["chat"]
            response = await client.post(f"/comments/{TENANT}",
                                         params={"urlId": conversation["windowUrlId"]}, json={
                "comment": "@Ann here", "url": PAGE, "sso": token("bo", "Bo"),
                "mentions": [{"id": ann_id, "tag": "@Ann"}]})
            assert response.status_code == 200, response.text
            deadline = time.monotonic() + 20
            while not smtp_sink.messages(ann_address):
                assert time.monotonic() < deadline, "no email arrived"
                await asyncio.sleep(0.2)
            [message] = smtp_sink.messages(ann_address)
            assert f"{PAGE}#imagechat={conversation['_id']}" in text_of(message)
            url = unsubscribe_url(message)
            assert url.startswith(f"{base}/email/unsubscribe?")
            response = await client.post(url, content=b"List-Unsubscribe=One-Click",
                                         headers={"content-type":
                                                  "application/x-www-form-urlencoded"})
            assert response.status_code == 200, response.text
    # Its log (info level) names neither the address nor what the message said.
    logged = log.read_text()
    assert "POST /comments/studio" in logged
    for private in (ann_address, ann_id, quote(ann_id), "@Ann here"):
        assert private not in logged, private
    signature = parse_qs(urlsplit(url).query)["sig"][0]
    assert "POST /email/unsubscribe" in logged and signature not in logged
    db = Database(sqlite_url)
    try:
        async with db.read() as conn:
            row = (await conn.execute(select(users.c.email_notifications).where(
                users.c.external_id == ann_id))).one()
        assert row.email_notifications is False
    finally:
        await db.dispose()

