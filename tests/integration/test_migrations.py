"""The migrations create exactly the schema declared in store/tables.py, on both databases.

Each test starts from an empty database: a fresh SQLite file, or a PostgreSQL database
created for the test (the shared test database already holds the app's schema).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from imagechat.store.migrate import alembic_config, upgrade
from imagechat.store.tables import metadata, tenants

LOOKUP_INDEXES = {
    # name: (table, columns in order, unique)
    "ix_conversations_tenant_url": ("conversations", ["tenant_id", "url_id", "created_at"],
                                    False),
    "ix_comments_tenant_url_created": ("comments", ["tenant_id", "url_id", "created_at", "id"],
                                       False),
    "ix_events_tenant_url_created": ("events", ["tenant_id", "url_id", "created_at"], False),
    "uq_events_tenant_id_url_id_seq": ("events", ["tenant_id", "url_id", "seq"], True),
}

# Every lookup the store makes: (table, the columns it matches by equality). Each needs an
# index or key that leads with those columns, or whose columns are all among them.
LOOKUPS = [
    ("tenants", ["id"]),
    ("channels", ["tenant_id", "url_id"]),
    ("conversations", ["tenant_id", "id"]),
    ("conversations", ["tenant_id", "url_id"]),
    ("conversations", ["tenant_id", "window_url_id"]),
    ("conversations", ["tenant_id"]),
    ("comments", ["tenant_id", "id"]),
    ("comments", ["tenant_id", "url_id"]),
    ("comments", ["tenant_id"]),  # the server-to-server listing of a whole tenant
    ("comments", ["parent_id"]),
    ("votes", ["tenant_id", "id"]),
    ("votes", ["tenant_id", "comment_id", "voter_key"]),
    ("votes", ["comment_id"]),  # ON DELETE CASCADE from comments
    ("events", ["tenant_id", "url_id"]),
    ("pages", ["tenant_id", "url_id"]),
    ("pages", ["tenant_id"]),
    ("usage", ["tenant_id"]),
    ("users", ["tenant_id", "kind", "external_id"]),
    ("image_versions", ["tenant_id", "url_id"]),
    ("conversation_positions", ["tenant_id", "url_id", "version"]),
    ("conversation_positions", ["chat_id"]),  # ON DELETE CASCADE from conversations
]


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_url(database_url: str) -> AsyncIterator[str]:
    """A database with no tables at all."""
    if database_url.startswith("sqlite"):
        yield database_url  # a new file in this test's tmp_path
        return
    name = f"imagechat_migrate_{secrets.token_hex(4)}"
    await _admin(database_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{database_url.rpartition('/')[0]}/{name}"
    finally:
        await _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_async_engine(empty_url)
    try:
        yield created
    finally:
        await created.dispose()


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs: list[Any] = compare_metadata(context, metadata)
    return diffs


def _schema(conn: Connection) -> dict[str, Any]:
    """Everything the database says about its tables, in a comparable form."""
    inspector = inspect(conn)
    found: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        found[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)],
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted((fk["name"] or "", tuple(fk["constrained_columns"]),
                           fk["referred_table"]) for fk in inspector.get_foreign_keys(table)),
            "indexes": sorted((i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
            "uniques": sorted((u["name"] or "", tuple(u["column_names"]))
                              for u in inspector.get_unique_constraints(table)),
        }
    return found


def _key_columns(conn: Connection) -> dict[str, list[tuple[str, list[str], bool]]]:
    """Per table: (name, ordered columns, unique) of every index, unique constraint and key."""
    inspector = inspect(conn)
    found: dict[str, list[tuple[str, list[str], bool]]] = {}
    for table in inspector.get_table_names():
        keys = [(i["name"] or "", list(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)]
        keys += [(u["name"] or "", list(u["column_names"]), True)
                 for u in inspector.get_unique_constraints(table)]
        pk = inspector.get_pk_constraint(table)
        keys.append((pk.get("name") or "primary key", list(pk["constrained_columns"]), True))
        found[table] = keys
    return found


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def test_upgrade_creates_exactly_the_declared_schema(
    engine: AsyncEngine, empty_url: str
) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == []
        # Against an empty database the comparison does see every table missing.
        missing = {d[1].name for d in await conn.run_sync(_differences) if d[0] == "add_table"}
        assert missing == set(metadata.tables)

    await upgrade(engine, empty_url)

    async with engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert names == set(metadata.tables) | {"alembic_version"}
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert [v[0] for v in versions] == [_head()]


async def test_upgrade_twice_is_a_no_op(engine: AsyncEngine, empty_url: str) -> None:
    await upgrade(engine, empty_url)
    async with engine.begin() as conn:
        await conn.execute(insert(tenants).values(
            id="kept", name="Kept", api_secret="s", allow_anonymous=True,
            allow_simple_sso=False, allowed_origins="[]", created_at=1))
        before = await conn.run_sync(_schema)

    await upgrade(engine, empty_url)

    async with engine.connect() as conn:
        assert await conn.run_sync(_schema) == before
        assert await conn.run_sync(_differences) == []
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert [v[0] for v in versions] == [_head()]
        assert (await conn.execute(select(tenants.c.id))).scalars().all() == ["kept"]


async def test_lookup_indexes_exist_with_their_columns(
    engine: AsyncEngine, empty_url: str
) -> None:
    await upgrade(engine, empty_url)
    async with engine.connect() as conn:
        keys = await conn.run_sync(_key_columns)
    for name, (table, columns, unique) in LOOKUP_INDEXES.items():
        matching = [k for k in keys[table] if k[0] == name]
        assert matching, f"{name} is missing on {table}: {keys[table]}"
        assert all(cols == columns for _, cols, _ in matching), (name, matching)
        assert any(is_unique for _, _, is_unique in matching) == unique, (name, matching)


def _serves(index_columns: list[str], lookup: list[str]) -> bool:
    """An index serves an equality lookup if it leads with exactly the lookup's columns,
    or if all of its own columns are among them."""
    leads = (len(index_columns) >= len(lookup)
             and set(index_columns[:len(lookup)]) == set(lookup))
    return leads or set(index_columns) <= set(lookup)


async def test_every_lookup_is_served_by_an_index(engine: AsyncEngine, empty_url: str) -> None:
    await upgrade(engine, empty_url)
    async with engine.connect() as conn:
        keys = await conn.run_sync(_key_columns)
    for table, lookup in LOOKUPS:
        assert any(_serves(cols, lookup) for _, cols, _ in keys[table]), (
            f"no index on {table} serves a lookup by {lookup}: {keys[table]}")
