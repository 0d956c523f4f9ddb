"""The SMTP transport against SMTP servers that speak TLS and ask for a login, as an
operator's mail server does: STARTTLS on `smtp://`, TLS from the first byte on `smtps://`,
and a password never sent over a connection in the clear.

The servers are aiosmtpd in this process, with a certificate from a test CA (trustme) that
the client trusts through SSL_CERT_FILE, as it would trust a real server's certificate
through the system's store.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from imagechat.outbound.smtp import SmtpTransport
from tests.server_process import free_port

# aiosmtpd warns of AUTH without STARTTLS even on a port that is TLS from the first byte.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "chat@acme.example", "s3cret/pass"
URL_LOGIN = "chat%40acme.example:s3cret%2Fpass"


class Inbox:
    """Keeps what the server accepted, whether it came over TLS, and the logins tried."""

    def __init__(self) -> None:
        self.messages: list[tuple[bool, bytes]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # session.ssl is set by STARTTLS; on a TLS port the transport itself is TLS.
        over_tls = (session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None)
        self.messages.append((over_tls, envelope.content))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        # handled=False: aiosmtpd answers a refusal with 535 itself.
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The server's TLS context; the client trusts its CA as it would a public one."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return context


@contextlib.contextmanager
def serve(inbox: Inbox, **options: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost",
                            authenticator=inbox.authenticate, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def email() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = USER, "ann@acme.example", "Hello"
    message.set_content("Bo mentioned you.")
    return message


async def send(url: str) -> Any:
    return await SmtpTransport.from_url(url).send(email(), sender=USER,
                                                  recipient="ann@acme.example")


async def test_starttls_then_login_then_the_message(trusted: ssl.SSLContext) -> None:
    inbox = Inbox()
    with serve(inbox, tls_context=trusted, require_starttls=True, auth_required=True) as port:
        sent = await send(f"smtp://{URL_LOGIN}@localhost:{port}")
    assert sent.ok, sent.error
    assert inbox.logins == [(USER.encode(), PASSWORD.encode())]
    [(over_tls, content)] = inbox.messages
    assert over_tls and b"Bo mentioned you." in content


async def test_smtps_speaks_tls_from_the_first_byte(trusted: ssl.SSLContext) -> None:
    inbox = Inbox()
    # aiosmtpd knows TLS only from STARTTLS: on a TLS port it must be told that AUTH is fine.
    with serve(inbox, ssl_context=trusted, auth_required=True, auth_require_tls=False) as port:
        sent = await send(f"smtps://{URL_LOGIN}@localhost:{port}")
    assert sent.ok, sent.error
    assert [over_tls for over_tls, _ in inbox.messages] == [True]


async def test_a_refused_login_is_a_failure_that_may_pass_later(
    trusted: ssl.SSLContext
) -> None:
    inbox = Inbox()
    with serve(inbox, tls_context=trusted, require_starttls=True, auth_required=True) as port:
        sent = await send(f"smtp://{USER.replace('@', '%40')}:wrong@localhost:{port}")
    assert not sent.ok and not sent.permanent
    assert sent.code == 535 and "wrong" not in sent.error
    assert inbox.messages == []


async def test_no_password_goes_to_a_server_without_tls() -> None:
    inbox = Inbox()
    # A server that offers no STARTTLS, and would take a login in the clear.
    with serve(inbox, auth_require_tls=False) as port:
        sent = await send(f"smtp://{URL_LOGIN}@localhost:{port}")
    assert not sent.ok and "no TLS" in sent.error
    assert inbox.logins == [] and inbox.messages == []


async def test_a_certificate_the_client_does_not_trust_is_refused(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server's certificate is from another CA than the one the client trusts.
    bundle = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    inbox = Inbox()
    with serve(inbox, ssl_context=context, auth_required=True, auth_require_tls=False) as port:
        sent = await send(f"smtps://{URL_LOGIN}@localhost:{port}")
    assert not sent.ok and not sent.permanent
    assert inbox.logins == [] and inbox.messages == []
