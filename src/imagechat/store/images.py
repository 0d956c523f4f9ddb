"""Images of a tenant: one per channel row of an image (every image that was ever written
to), with figures aggregated from its conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, func, not_, or_, select

from imagechat.domain.models import ImageSummary
from imagechat.store.database import Connection
from imagechat.store.tables import channels, conversations, pages


def _is_image(tenant_id: str) -> Any:
    # A channel is an image's unless it is a page's: comments at its own urlId and no
    # conversation on it. A conversation's thread rides on its image's channel, and an
    # image locked before its first conversation has no comments at all.
    has_conversations = exists().where(conversations.c.tenant_id == tenant_id,
                                       conversations.c.url_id == channels.c.url_id)
    is_page = exists().where(pages.c.tenant_id == tenant_id,
                             pages.c.url_id == channels.c.url_id)
    return and_(channels.c.tenant_id == tenant_id, or_(has_conversations, not_(is_page)))


async def count(conn: Connection, tenant_id: str) -> int:
    value = (await conn.execute(
        select(func.count()).select_from(channels).where(_is_image(tenant_id))
    )).scalar()
    return int(value or 0)


async def page(
    conn: Connection, tenant_id: str, *, limit: int, offset: int, newest_first: bool = True
) -> list[ImageSummary]:
    """A page of images by last activity; figures are read for that page only."""
    activity = channels.c.updated_at.desc() if newest_first else channels.c.updated_at.asc()
    rows = (await conn.execute(
        select(channels.c.url_id, channels.c.updated_at, channels.c.locked)
        .where(_is_image(tenant_id))
        .order_by(activity, channels.c.url_id)
        .limit(limit)
        .offset(offset)
    )).all()
    if not rows:
        return []
    figures = await _figures(conn, tenant_id, [r.url_id for r in rows])
    found = []
    for row in rows:
        count, comments, resolved, src, page_url = figures.get(row.url_id, _NONE)
        found.append(ImageSummary(
            url_id=row.url_id, conversations=count, comments=comments,
            last_activity=row.updated_at, locked=bool(row.locked), src=src,
            page_url=page_url, resolved=resolved,
        ))
    return found


async def get(conn: Connection, tenant_id: str, url_id: str) -> ImageSummary | None:
    row = (await conn.execute(
        select(channels.c.url_id, channels.c.updated_at, channels.c.locked)
        .where(_is_image(tenant_id), channels.c.url_id == url_id)
    )).first()
    if row is None:
        return None
    figures = await _figures(conn, tenant_id, [url_id])
    count, comments, resolved, src, page_url = figures.get(url_id, _NONE)
    return ImageSummary(url_id=url_id, conversations=count, comments=comments,
                        last_activity=row.updated_at, locked=bool(row.locked), src=src,
                        page_url=page_url, resolved=resolved)


_Figures = tuple[int, int, int, str | None, str | None]
_NONE: _Figures = (0, 0, 0, None, None)


async def _figures(conn: Connection, tenant_id: str, url_ids: list[str]
                   ) -> dict[str, _Figures]:
    """Per image: conversations, comments, resolved conversations, and an image address
    and page seen with it."""
    c = conversations.c
    rows = await conn.execute(
        select(c.url_id, func.count().label("conversations"),
               func.coalesce(func.sum(c.comment_count), 0).label("comments"),
               func.coalesce(func.sum(case((c.resolved, 1), else_=0)), 0).label("resolved"),
               func.max(c.src).label("src"), func.max(c.page_url).label("page_url"))
        .where(c.tenant_id == tenant_id, c.url_id.in_(url_ids))
        .group_by(c.url_id)
    )
    return {r.url_id: (int(r.conversations), int(r.comments), int(r.resolved), r.src, r.page_url)
            for r in rows}


async def url_ids_after(conn: Connection, tenant_id: str, after: str | None, limit: int
                        ) -> list[str]:
    """The tenant's image urlIds in order, the first `limit` past `after` (keyset paging:
    an export that reads them in steps misses none and repeats none while others write)."""
    query = select(channels.c.url_id).where(_is_image(tenant_id))
    if after is not None:
        query = query.where(channels.c.url_id > after)
    rows = await conn.execute(query.order_by(channels.c.url_id).limit(limit))
    return [row.url_id for row in rows]
