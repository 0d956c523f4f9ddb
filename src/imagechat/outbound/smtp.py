"""Sending one email through the operator's SMTP server (`IMAGECHAT_SMTP_URL`).

`smtp://user:password@host:587` connects in the clear and upgrades with STARTTLS when the
server offers it; `smtps://user:password@host:465` speaks TLS from the first byte. A
password is never sent over a connection that is not encrypted. The SMTP server is the
operator's own choice, so it is not subject to the outbound address rules that guard the
targets a site chooses (`outbound.addresses`).

What comes back says whether retrying can help: a 5xx refusal of the recipient (RCPT) is a
bounce, the address is dead; a 5xx refusal of the message (DATA) will not change either;
anything else (the server away, 4xx, a login refused) may pass, and is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

# The longest a whole exchange with the SMTP server may take: within the outbox lease.
SMTP_TIMEOUT_SECS = 30.0
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
# Headers are folded at RFC 5322's limit of 998 characters, not at 78: a header without
# spaces to fold at (a long List-Unsubscribe link) would otherwise be rewritten as encoded
# words, which mail clients do not read as a link.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Sent:
    """How one attempt went. `code` is the SMTP reply code when the server gave one."""

    ok: bool
    code: int | None = None
    # Why it failed, fit for logs and the outbox row: never an address or the message.
    error: str = ""
    # The recipient was refused for good (5xx at RCPT): the server's own words, for the
    # site's list of bounced addresses.
    bounced: str | None = None
    # Retrying cannot help (a bounce, or the message itself refused).
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None
    timeout_secs: float = SMTP_TIMEOUT_SECS

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise SmtpUrlError("IMAGECHAT_SMTP_URL is not a valid URL.") from None
        if parts.scheme not in DEFAULT_PORTS:
            raise SmtpUrlError("IMAGECHAT_SMTP_URL starts with smtp:// or smtps://.")
        if not parts.hostname:
            raise SmtpUrlError("IMAGECHAT_SMTP_URL names no host.")
        return cls(host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme],
                   implicit_tls=parts.scheme == "smtps",
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> Sent:
        client = aiosmtplib.SMTP(
            hostname=self.host, port=self.port, use_tls=self.implicit_tls,
            # None: upgrade with STARTTLS whenever the server offers it.
            start_tls=False if self.implicit_tls else None, timeout=self.timeout_secs)
        try:
            await client.connect()
            try:
                if self.username is not None:
                    if client.get_transport_info("sslcontext") is None:
                        return Sent(False, error="the SMTP server offers no TLS: the password "
                                                 "is not sent in the clear")
                    await client.login(self.username, self.password or "")
                await client.sendmail(sender, [recipient], message.as_bytes(policy=WIRE_POLICY))
            finally:
                if client.is_connected:
                    try:
                        await client.quit()
                    except aiosmtplib.SMTPException:
                        client.close()
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return _refused(exc.recipients[0] if exc.recipients else None)
        except aiosmtplib.SMTPRecipientRefused as exc:
            return _refused(exc)
        except aiosmtplib.SMTPDataError as exc:
            return Sent(False, code=exc.code, error=f"the message was refused ({exc.code})",
                        permanent=exc.code >= 500)
        except aiosmtplib.SMTPResponseException as exc:
            return Sent(False, code=exc.code,
                        error=f"the SMTP server said no: {type(exc).__name__} ({exc.code})")
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection errors name the SMTP server, never the recipient.
            return Sent(False, error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return Sent(True, code=250)


def _refused(exc: aiosmtplib.SMTPRecipientRefused | None) -> Sent:
    if exc is None:
        return Sent(False, error="the recipient was refused")
    if exc.code >= 500:
        return Sent(False, code=exc.code, error=f"the address was refused for good ({exc.code})",
                    bounced=exc.message[:500], permanent=True)
    return Sent(False, code=exc.code, error=f"the address was refused for now ({exc.code})")
