"""Pages: the threads of a tenant, as the reference's `/api/v1/pages` lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.domain.models import Page, Tenant
from imagechat.services.threads import thread_url_id
from imagechat.store import channels, conversations, pages
from imagechat.store.database import Connection, Database


@dataclass(frozen=True, slots=True)
class PageState:
    page: Page
    # Its thread's channel is locked: the reference's `isClosed`.
    closed: bool


class PageService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, tenant: Tenant, *, limit: int, offset: int) -> list[PageState]:
        async with self.db.read() as conn:
            found = await pages.page(conn, tenant.id, limit=limit, offset=offset)
            return await _with_state(conn, tenant.id, found)

    async def by_url_id(self, tenant: Tenant, raw_url_id: Any) -> PageState | None:
        url_id = thread_url_id(raw_url_id)
        async with self.db.read() as conn:
            found = await pages.by_url_id(conn, tenant.id, url_id)
            if found is None:
                return None
            return (await _with_state(conn, tenant.id, [found]))[0]


async def _with_state(conn: Connection, tenant_id: str, found: list[Page]) -> list[PageState]:
    # A conversation's thread is closed when its image is locked; any other thread when
    # its own channel is.
    by_window = await conversations.by_window_url_ids(conn, tenant_id, [p.url_id for p in found])
    channel_of = {p.url_id: by_window[p.url_id].url_id if p.url_id in by_window else p.url_id
                  for p in found}
    locked = await channels.locked_among(conn, tenant_id, sorted(set(channel_of.values())))
    return [PageState(page=p, closed=channel_of[p.url_id] in locked) for p in found]
