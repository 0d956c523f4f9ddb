"""Users a visitor can mention: the tenant's signed-in users who connected or wrote."""

from __future__ import annotations

from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.models import KnownUser, Tenant
from imagechat.store import users
from imagechat.store.database import Database

# Suggestions per `@` typed: a short list to pick from, not a directory.
MAX_SUGGESTIONS = 10


class UserService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(self, tenant: Tenant, actor: Actor, starts_with: Any) -> list[KnownUser]:
        """Known users whose name starts so, for whoever may write here (names are shown
        to those who could mention them, not to anyone who asks)."""
        require_writer(tenant, actor)
        prefix = rules.optional_text(starts_with, "usernameStartsWith",
                                     limits.MAX_NAME_CHARS) or ""
        async with self.db.read() as conn:
            return await users.search(conn, tenant.id, prefix.strip(), MAX_SUGGESTIONS)
