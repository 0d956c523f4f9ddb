"""Users a visitor can mention: the tenant's signed-in users who connected or wrote."""

from __future__ import annotations

import logging
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.clock import Clock
from imagechat.domain.errors import ImageChatError, NotFound
from imagechat.domain.models import EmailBounce, KnownUser, Tenant
from imagechat.store import email_bounces, users
from imagechat.store.database import Database

log = logging.getLogger("imagechat")

# Suggestions per `@` typed: a short list to pick from, not a directory.
MAX_SUGGESTIONS = 10


class UserService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def seen(self, actor: Actor) -> None:
        """A signed-in visitor connected: others may mention them from now on. Done in the
        background of a connection; a database that is away only delays it to their next
        connection or comment."""
        try:
            async with self.db.write() as conn:
                await users.remember(conn, actor, self.clock.now_ms())
        except ImageChatError:
            log.info("could not note user %s as seen", actor.user_id)

    async def set_email_notifications(self, tenant: Tenant, user_id: str, wanted: bool
                                      ) -> bool:
        """A user's own choice (the unsubscribe link): email or not. False: no such user."""
        async with self.db.write() as conn:
            return await users.set_email_notifications(conn, tenant.id, user_id, wanted)

    async def locale_of(self, tenant: Tenant, user_id: str) -> str | None:
        async with self.db.read() as conn:
            return await users.locale_of(conn, tenant.id, user_id)

    async def bounces(self, tenant: Tenant) -> list[EmailBounce]:
        """The site's addresses that refused mail for good, newest first."""
        async with self.db.read() as conn:
            return await email_bounces.listed(conn, tenant.id)

    async def forget_bounce(self, tenant: Tenant, address: str) -> None:
        """Email that address again (its owner fixed their mailbox)."""
        async with self.db.write() as conn:
            if not await email_bounces.forget(conn, tenant.id, address):
                raise NotFound("No bounced address of this site is that one.",
                               "bounce-not-found")

    async def search(self, tenant: Tenant, actor: Actor, starts_with: Any) -> list[KnownUser]:
        """Known users whose name starts so, for whoever may write here (names are shown
        to those who could mention them, not to anyone who asks)."""
        require_writer(tenant, actor)
        prefix = rules.optional_text(starts_with, "usernameStartsWith",
                                     limits.MAX_NAME_CHARS) or ""
        async with self.db.read() as conn:
            return await users.search(conn, tenant.id, prefix.strip(), MAX_SUGGESTIONS)
