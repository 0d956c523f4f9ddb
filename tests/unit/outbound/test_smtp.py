"""IMAGECHAT_SMTP_URL: which server, which TLS, which login."""

from __future__ import annotations

import pytest

from imagechat.outbound.smtp import SmtpTransport, SmtpUrlError


def test_smtp_urls() -> None:
    plain = SmtpTransport.from_url("smtp://mail.example")
    assert (plain.host, plain.port, plain.implicit_tls, plain.username) == (
        "mail.example", 587, False, None)
    tls = SmtpTransport.from_url("smtps://chat%40example.com:p%2Fss@mail.example:2465")
    assert (tls.host, tls.port, tls.implicit_tls) == ("mail.example", 2465, True)
    assert (tls.username, tls.password) == ("chat@example.com", "p/ss")
    assert SmtpTransport.from_url("smtps://mail.example").port == 465


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25",
                                 "smtp://mail.example:99999"])
def test_urls_that_cannot_work_are_refused(url: str) -> None:
    with pytest.raises(SmtpUrlError):
        SmtpTransport.from_url(url)
