"""Email digests: a user's mentions and replies within a window go out as one email.

Who gets email: Secure SSO users with an address (from their SSO payload) that never
bounced, on a site whose emails are on (`imagechat tenant update --emails/--no-emails`),
unless they unsubscribed. Only mentions and replies in threads they follow are emailed.

- When a write makes such a notification (in its transaction, `DigestPlanner`), the user
  gets one pending "email" delivery in the outbox, due when the window ends
  (`IMAGECHAT_EMAIL_DIGEST_MINUTES` after the first notification; 0: at once); while one
  that no worker has claimed yet is pending, later notifications join it.
- When the delivery is attempted (`EmailCourier`), it takes that user's notifications that
  are neither emailed nor read yet. None left (the user read them in the widget meanwhile):
  nothing is sent. Else one email quotes them all, and they are marked emailed, so a later
  digest never repeats them.
- A permanent refusal of the address (5xx at RCPT) records a bounce and is not retried; no
  email goes to that address again. Other failures are retried by the outbox's rules. An
  email may be sent twice if the node dies between sending it and recording it (the
  outbox delivers at least once); its Message-ID is the delivery's id either way.

Logs name deliveries by id, never an address or what a message says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING

from imagechat.auth import unsubscribe
from imagechat.domain.clock import Clock
from imagechat.domain.models import Delivery, Notification
from imagechat.outbound.smtp import SmtpTransport
from imagechat.services.email_render import message, render
from imagechat.services.outbox import Outcome
from imagechat.services.recorder import EventRecorder
from imagechat.store import email_bounces, notifications, outbox, tenants, users
from imagechat.store.database import Database
from imagechat.store.moderation import USER_PREFIX

if TYPE_CHECKING:
    from imagechat.settings import Settings

log = logging.getLogger("imagechat.email")

EMAIL = "email"  # the outbox kind
DIGEST = "digest"  # its event type
EMAILED_KINDS = ("mention", "reply")
# One email quotes at most this many messages and counts the rest ("…and 7 more"); it
# takes at most MAX_TAKEN, a bound on one delivery's work.
MAX_QUOTED = 20
MAX_TAKEN = 500


@dataclass(frozen=True, slots=True)
class EmailConfig:
    transport: SmtpTransport
    sender: str  # the From header, as configured
    envelope_sender: str  # its address alone (MAIL FROM)
    window_ms: int
    # Where the unsubscribe links point.
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailConfig | None:
        """None when email is off (no SMTP URL or no From); ValueError for a setting that
        cannot work, so that the server says so when it starts."""
        if not settings.email_enabled:
            return None
        transport = SmtpTransport.from_url(settings.smtp_url.get_secret_value())
        address = parseaddr(settings.email_from)[1]
        if "@" not in address:
            raise ValueError("IMAGECHAT_EMAIL_FROM needs an address, e.g. "
                             "`ImageChat <chat@example.com>`.")
        public = settings.public_url.rstrip("/")
        if not public:
            scheme = "https" if settings.tls_cert else "http"
            public = f"{scheme}://{settings.host}:{settings.port}"
            log.warning("IMAGECHAT_PUBLIC_URL is not set: unsubscribe links in emails point "
                        "at %s", public)
        return cls(transport=transport, sender=settings.email_from, envelope_sender=address,
                   window_ms=int(settings.email_digest_minutes * 60_000), public_url=public)


class DigestPlanner:
    """Plans the digests of the notifications a write makes (a NotificationHook)."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms

    async def __call__(self, rec: EventRecorder, made: Sequence[Notification]) -> None:
        by_tenant: dict[str, set[str]] = {}
        for n in made:
            if n.kind in EMAILED_KINDS and n.user_key.startswith(USER_PREFIX):
                by_tenant.setdefault(n.tenant_id, set()).add(n.user_key[len(USER_PREFIX):])
        for tenant_id, user_ids in by_tenant.items():
            tenant = await tenants.get_tenant(rec.conn, tenant_id)
            if tenant is None or not tenant.emails_enabled:
                continue
            for user_id in sorted(await users.recipients(rec.conn, tenant_id,
                                                         sorted(user_ids))):
                await self._ensure(rec, tenant_id, USER_PREFIX + user_id)

    async def _ensure(self, rec: EventRecorder, tenant_id: str, key: str) -> None:
        if any(d.kind == EMAIL and d.tenant_id == tenant_id and d.target == key
               for d in rec.deliveries):
            return
        if await outbox.unclaimed(rec.conn, tenant_id, kind=EMAIL, target=key) is not None:
            return
        rec.deliver(tenant_id, EMAIL, key, DIGEST, {"userKey": key},
                    at_ms=rec.now_ms + self.window_ms)


class EmailCourier:
    """Attempts "email" deliveries: one digest each (a Courier of the outbox)."""

    def __init__(self, db: Database, clock: Clock, config: EmailConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    async def attempt(self, delivery: Delivery) -> Outcome:
        key = delivery.target
        user_id = key[len(USER_PREFIX):]
        async with self.db.read() as conn:
            tenant = await tenants.get_tenant(conn, delivery.tenant_id)
            if tenant is None or not tenant.emails_enabled:
                return _nothing("emails are off for the site")
            recipient = (await users.recipients(conn, tenant.id, [user_id])).get(user_id)
            if recipient is None:
                return _nothing("the user gets no email (no address, unsubscribed or bounced)")
            pending = await notifications.for_digest(conn, tenant.id, key, EMAILED_KINDS,
                                                     limit=MAX_TAKEN)
        if not pending:
            return _nothing("no unread notifications left")
        link = unsubscribe.link(self.config.public_url, tenant.api_secret, tenant.id, user_id)
        now = self.clock.now_ms()
        rendered = render(tenant, pending[:MAX_QUOTED], more=len(pending[MAX_QUOTED:]),
                          recipient_name=recipient.display_name, locale=recipient.locale,
                          unsubscribe=link)
        domain = self.config.envelope_sender.rpartition("@")[2]
        try:
            mail = message(rendered, sender=self.config.sender,
                           to_name=recipient.display_name, to_address=recipient.email,
                           message_id=f"<{delivery.id}@{domain}>", unsubscribe=link,
                           now_ms=now)
        except ValueError:
            return Outcome(False, error="the user's address cannot be used", permanent=True)
        sent = await self.config.transport.send(
            mail, sender=self.config.envelope_sender, recipient=recipient.email)
        if sent.ok:
            async with self.db.write() as conn:
                await notifications.mark_emailed(conn, tenant.id, [n.id for n in pending],
                                                 self.clock.now_ms())
            return Outcome(True, status_code=sent.code,
                           response=f"sent, {len(pending)} notification(s)")
        if sent.bounced is not None:
            async with self.db.write() as conn:
                await email_bounces.add(conn, tenant.id, recipient.email,
                                        code=sent.code or 550, message=sent.bounced,
                                        now_ms=self.clock.now_ms())
        return Outcome(False, status_code=sent.code, error=sent.error,
                       permanent=sent.permanent)


def _nothing(reason: str) -> Outcome:
    """Done without sending: there is nothing (left) to send."""
    return Outcome(True, response=f"not sent: {reason}")
