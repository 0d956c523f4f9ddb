"""Page rows: one per thread (urlId) with comments, with its counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, exists, func, not_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.ids import new_id
from imagechat.domain.models import Page
from imagechat.store.database import Connection
from imagechat.store.tables import comments, conversations, pages


def _to_page(row: Any) -> Page:
    return Page(
        id=row.id, tenant_id=row.tenant_id, url_id=row.url_id, url=row.url, title=row.title,
        comment_count=row.comment_count, root_comment_count=row.root_comment_count,
        created_at=row.created_at, updated_at=row.updated_at,
    )


def _counted_statement(insert: Any) -> Any:
    # One statement: create the page with these counts, or add them to an existing one.
    # The first non-empty url and title stick: later comments may come from elsewhere.
    stmt = insert(pages).values(
        id=bindparam("id"), tenant_id=bindparam("tenant_id"), url_id=bindparam("url_id"),
        url=bindparam("url"), title=bindparam("title"), comment_count=bindparam("comments"),
        root_comment_count=bindparam("roots"), created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    c = pages.c
    return stmt.on_conflict_do_update(
        index_elements=[c.tenant_id, c.url_id],
        set_={
            "comment_count": c.comment_count + stmt.excluded.comment_count,
            "root_comment_count": c.root_comment_count + stmt.excluded.root_comment_count,
            "url": func.coalesce(func.nullif(c.url, ""), stmt.excluded.url),
            "title": func.coalesce(func.nullif(c.title, ""), stmt.excluded.title),
            "updated_at": stmt.excluded.updated_at,
        },
    )


# Built once per dialect: every posted comment runs it (see event_log._APPEND).
_COUNTED = {"sqlite": _counted_statement(sqlite_insert),
            "postgresql": _counted_statement(pg_insert)}


async def count_comments(
    conn: Connection, tenant_id: str, url_id: str, now_ms: int, *, comments: int, roots: int,
    url: str = "", title: str = "",
) -> None:
    """Add comments to a thread's page, creating the page with its first comment."""
    await conn.execute(_COUNTED[conn.dialect.name], {
        "id": new_id(), "tenant_id": tenant_id, "url_id": url_id, "url": url, "title": title,
        "comments": comments, "roots": roots, "now": now_ms,
    })


async def uncount_comments(
    conn: Connection, tenant_id: str, url_id: str, now_ms: int, *, comments: int, roots: int
) -> None:
    """Take deleted comments off a page's counts (never below zero)."""
    c = pages.c
    floor = func.max if conn.dialect.name == "sqlite" else func.greatest
    await conn.execute(
        update(pages)
        .where(c.tenant_id == tenant_id, c.url_id == url_id)
        .values(comment_count=floor(c.comment_count - comments, 0),
                root_comment_count=floor(c.root_comment_count - roots, 0),
                updated_at=now_ms)
    )


async def by_url_id(conn: Connection, tenant_id: str, url_id: str) -> Page | None:
    row = (await conn.execute(
        select(pages).where(pages.c.tenant_id == tenant_id, pages.c.url_id == url_id)
    )).first()
    return _to_page(row) if row else None


async def page(conn: Connection, tenant_id: str, *, limit: int, offset: int) -> list[Page]:
    """Pages of a tenant, oldest first."""
    rows = await conn.execute(
        select(pages).where(pages.c.tenant_id == tenant_id)
        .order_by(pages.c.created_at, pages.c.id).limit(limit).offset(offset)
    )
    return [_to_page(r) for r in rows]


def _standalone(tenant_id: str) -> Any:
    # Pages with comments that are not a conversation's thread (those belong to an image;
    # a deleted conversation leaves its thread's page with no comments).
    is_thread = exists().where(conversations.c.tenant_id == tenant_id,
                               conversations.c.window_url_id == pages.c.url_id)
    return (pages.c.tenant_id == tenant_id) & (pages.c.comment_count > 0) & not_(is_thread)


async def count_standalone(conn: Connection, tenant_id: str) -> int:
    value = (await conn.execute(
        select(func.count()).select_from(pages).where(_standalone(tenant_id))
    )).scalar()
    return int(value or 0)


async def standalone_page(
    conn: Connection, tenant_id: str, *, limit: int, offset: int, newest_first: bool = True
) -> list[Page]:
    """Pages that are not a conversation's thread, by last activity."""
    activity = pages.c.updated_at.desc() if newest_first else pages.c.updated_at.asc()
    rows = await conn.execute(
        select(pages).where(_standalone(tenant_id))
        .order_by(activity, pages.c.url_id).limit(limit).offset(offset)
    )
    return [_to_page(r) for r in rows]


async def recount(conn: Connection, tenant_id: str, url_id: str, now_ms: int) -> None:
    """Set a page's counts from its comments (after a bulk import into the thread)."""
    c = comments.c
    totals = (await conn.execute(
        select(func.count().label("n"),
               func.coalesce(func.sum(case((c.parent_id.is_(None), 1), else_=0)), 0)
               .label("roots"))
        .where(c.tenant_id == tenant_id, c.url_id == url_id)
    )).one()
    await conn.execute(
        update(pages).where(pages.c.tenant_id == tenant_id, pages.c.url_id == url_id)
        .values(comment_count=int(totals.n), root_comment_count=int(totals.roots),
                updated_at=now_ms)
    )
