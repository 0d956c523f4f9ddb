"""Rows for the archive (`imagechat export` / `import`): which tables it holds, in which
order, read as a stream and written back only where absent.

Every table is listed here, either as a record type of the archive or among the tables it
leaves out with the reason (`tests/integration/test_archive.py` fails on a table in neither),
so a new table cannot be forgotten silently. docs/data-model.md, "Archive", explains them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain.ids import new_id
from imagechat.store.database import Connection
from imagechat.store.tables import (
    annotation_documents,
    bans,
    channels,
    comments,
    conversation_positions,
    conversations,
    email_bounces,
    follows,
    image_versions,
    moderation_log,
    notifications,
    pages,
    reactions,
    tenants,
    usage,
    users,
    votes,
    webhook_endpoints,
)

# Rows fetched from the database per round trip while streaming.
STREAM_ROWS = 500


@dataclass(frozen=True)
class Kind:
    """One record type of the archive: a table, the order its rows are written in, and the
    columns left out (`secret`: only with --include-secrets; `local`: never, because they
    only mean something in the database they were made in)."""

    name: str
    table: Table
    order: tuple[str, ...]
    secret: tuple[str, ...] = ()
    local: tuple[str, ...] = ()

    def columns(self, *, secrets: bool) -> list[Column[Any]]:
        skipped = set(self.local) | (set() if secrets else set(self.secret))
        return [c for c in self.table.columns if c.name not in skipped]

    @property
    def tenant_column(self) -> Column[Any]:
        return self.table.c.id if self.table is tenants else self.table.c.tenant_id


# In the order they are written and read back: every row comes after what it points to.
# Comments go oldest first, so a reply follows its parent.
KINDS: tuple[Kind, ...] = (
    Kind("tenant", tenants, ("id",), secret=("api_secret",)),
    Kind("user", users, ("id",)),
    # The epoch is the channel's history in one database; an import gives a new one.
    Kind("channel", channels, ("tenant_id", "url_id"), local=("epoch",)),
    Kind("image_version", image_versions, ("tenant_id", "url_id", "version")),
    Kind("conversation", conversations, ("id",)),
    Kind("conversation_position", conversation_positions, ("chat_id", "version")),
    Kind("page", pages, ("id",)),
    Kind("comment", comments, ("created_at", "id")),
    # What a Web Annotation client sent for a conversation or a comment, kept as given.
    Kind("annotation_document", annotation_documents, ("tenant_id", "id")),
    Kind("vote", votes, ("id",)),
    Kind("reaction", reactions, ("comment_id", "emoji", "voter_key")),
    Kind("follow", follows, ("tenant_id", "url_id", "user_key")),
    Kind("notification", notifications, ("id",)),
    Kind("ban", bans, ("tenant_id", "subject")),
    Kind("moderation", moderation_log, ("id",)),
    Kind("webhook", webhook_endpoints, ("id",), secret=("secret",)),
    Kind("email_bounce", email_bounces, ("tenant_id", "address")),
    Kind("usage", usage, ("tenant_id", "hour")),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}

# Tables the archive leaves out, and why.
LEFT_OUT = {
    "events": "the event log is a channel's recent history for resume; an import gives each "
              "channel a new epoch, so clients reload instead of resuming",
    "outbox": "deliveries in flight (webhooks, emails); restoring them would send them again",
    "alembic_version": "the schema's revision; the archive's header carries it",
}


def primary_key(kind: Kind) -> list[Column[Any]]:
    return list(kind.table.primary_key.columns)


def _where_tenant(kind: Kind, tenant_id: str | None) -> Any:
    return None if tenant_id is None else kind.tenant_column == tenant_id


async def count(conn: AsyncConnection, kind: Kind, tenant_id: str | None) -> int:
    stmt = select(func.count()).select_from(kind.table)
    where = _where_tenant(kind, tenant_id)
    if where is not None:
        stmt = stmt.where(where)
    return int((await conn.execute(stmt)).scalar_one())


async def newest_ms(conn: AsyncConnection, kind: Kind, tenant_id: str | None) -> int:
    """The latest time any row of the kind carries (0 when there is none)."""
    times = [c for c in kind.table.columns if c.name.endswith("_at")]
    if not times:
        return 0
    stmt = select(*(func.max(c) for c in times))
    where = _where_tenant(kind, tenant_id)
    if where is not None:
        stmt = stmt.where(where)
    row = (await conn.execute(stmt)).one()
    return max((int(v) for v in row if v is not None), default=0)


async def stream(conn: AsyncConnection, kind: Kind, tenant_id: str | None, *,
                 secrets: bool) -> AsyncIterator[dict[str, Any]]:
    """The kind's rows in archive order, through a server-side cursor: memory holds one
    batch at a time however large the table."""
    cols = kind.columns(secrets=secrets)
    stmt = select(*cols).order_by(*(kind.table.c[name] for name in kind.order))
    where = _where_tenant(kind, tenant_id)
    if where is not None:
        stmt = stmt.where(where)
    result = await conn.stream(stmt.execution_options(yield_per=STREAM_ROWS))
    async for row in result:
        yield dict(row._mapping)


async def exists(conn: Connection, table: Table, **key: Any) -> bool:
    stmt = select(func.count()).select_from(table).where(
        *(table.c[name] == value for name, value in key.items()))
    return bool((await conn.execute(stmt)).scalar_one())


async def insert_absent(conn: Connection, kind: Kind, values: dict[str, Any]) -> bool:
    """Insert the row unless one with its primary key is stored; True if it was inserted.
    Only the primary key is passed over: any other clash (the same thread under another
    conversation id) fails, and the caller reports it."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    stmt = insert(kind.table).values(**values).on_conflict_do_nothing(
        index_elements=primary_key(kind))
    return bool((await conn.execute(stmt)).rowcount)


async def insert_many_absent(conn: Connection, kind: Kind,
                             rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """`insert_absent` for many rows in one statement; returns the primary keys of the rows
    it inserted."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    key = primary_key(kind)
    stmt = insert(kind.table).on_conflict_do_nothing(index_elements=key).returning(*key)
    return {tuple(row) for row in await conn.execute(stmt, rows)}


def key_of(kind: Kind, values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[c.name] for c in primary_key(kind))


async def owners(conn: Connection, kind: Kind,
                 keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], str]:
    """The tenant of each stored row among these primary keys."""
    columns = primary_key(kind)
    found: dict[tuple[Any, ...], str] = {}
    for start in range(0, len(keys), STREAM_ROWS):
        chunk = keys[start : start + STREAM_ROWS]
        where = columns[0].in_([k[0] for k in chunk]) if len(columns) == 1 \
            else tuple_(*columns).in_(chunk)
        rows = await conn.execute(select(*columns, kind.tenant_column).where(where))
        found.update({tuple(row[:-1]): str(row[-1]) for row in rows})
    return found


async def stored_comments(conn: Connection, ids: set[str]) -> set[tuple[str, str]]:
    """(id, tenant) of the stored comments among these ids."""
    found: set[tuple[str, str]] = set()
    listed = sorted(ids)
    for start in range(0, len(listed), STREAM_ROWS):
        rows = await conn.execute(select(comments.c.id, comments.c.tenant_id).where(
            comments.c.id.in_(listed[start : start + STREAM_ROWS])))
        found.update((row.id, row.tenant_id) for row in rows)
    return found


async def owner(conn: Connection, kind: Kind, values: dict[str, Any]) -> str | None:
    """The tenant of the stored row with the record's primary key (None: no such row)."""
    column = kind.tenant_column
    row = (await conn.execute(select(column).where(
        *(c == values[c.name] for c in primary_key(kind))))).first()
    return None if row is None else str(row[0])


async def restart_channel(conn: Connection, tenant_id: str, url_id: str, seq: int) -> None:
    """Give a stored channel a new epoch, and a seq at least `seq`: what it held changed
    under it, so clients resuming from before must reload."""
    await conn.execute(update(channels).where(
        channels.c.tenant_id == tenant_id, channels.c.url_id == url_id,
    ).values(epoch=new_epoch(), seq=func.max(channels.c.seq, seq)
             if conn.dialect.name == "sqlite" else func.greatest(channels.c.seq, seq)))


def new_epoch() -> str:
    # The shape `store/channels.ensure_channel` gives epochs.
    return new_id()[:16]
