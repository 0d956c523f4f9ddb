"""Apply Alembic migrations from code (used by `imagechat migrate` and at server start), and
tell where a database's schema stands (every other command refuses a schema that is behind)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number; it names the advisory lock migrations take on PostgreSQL.
MIGRATION_LOCK_KEY = 7_114_327_010


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs may carry percent-escapes.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this version of ImageChat."""

    current: str | None  # the applied revision; None: no ImageChat schema at all
    head: str  # the newest revision this version knows
    known: bool  # `current` is one of this version's revisions
    empty: bool  # the database holds no tables at all

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def problem(self) -> str | None:
        """Why commands other than `migrate` must not run on it, or None."""
        if self.up_to_date:
            return None
        if self.current is None:
            return ("the database has no ImageChat schema yet: run `imagechat migrate` "
                    "(or start `imagechat serve`, which migrates by default)")
        if not self.known:
            return (f"the database's schema is at revision {self.current}, which this "
                    f"version of ImageChat does not know (its newest is {self.head}): it was "
                    "migrated by a newer release")
        return (f"the database's schema is at revision {self.current}, this version needs "
                f"{self.head}: run `imagechat migrate` first")


class SchemaNotReady(RuntimeError):
    """The schema is missing, behind or unknown; the message says what to do."""


async def require_current(engine: AsyncEngine) -> SchemaState:
    state = await schema_state(engine)
    problem = state.problem()
    if problem is not None:
        raise SchemaNotReady(problem)
    return state


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Reads the applied revision; changes nothing."""

    def _read(connection: Connection) -> tuple[str | None, bool]:
        current = MigrationContext.configure(connection).get_current_revision()
        return current, not inspect(connection).get_table_names()

    async with engine.connect() as conn:
        current, empty = await conn.run_sync(_read)
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = current is not None and current in {r.revision for r in script.walk_revisions()}
    return SchemaState(current=current, head=head_revision(), known=known, empty=empty)


# Revisions that move existing rows with Python, which a SQL script cannot carry: `--sql`
# can write them out for a new database, not for one already past them.
DATA_MIGRATIONS = ("0003",)


def upgrade_sql(url: str, current: str | None) -> str:
    """The SQL that `upgrade` would run from `current` to the newest revision, unrun."""
    script = ScriptDirectory.from_config(alembic_config(url))
    if current is not None:
        ahead = {r.revision for r in script.iterate_revisions("head", current)} - {current}
        moving = sorted(ahead & set(DATA_MIGRATIONS))
        if moving:
            raise SchemaNotReady(
                f"migration {', '.join(moving)} moves existing rows and cannot be written "
                "out as SQL: run `imagechat migrate` (after a backup)")
    buffer = io.StringIO()
    config = alembic_config(url)
    config.output_buffer = buffer
    command.upgrade(config, f"{current}:head" if current else "head", sql=True)
    return buffer.getvalue()


async def upgrade(engine: AsyncEngine, url: str, revision: str = "head") -> None:
    """Bring the schema to a revision (the newest by default), on the given engine."""

    def _upgrade(connection: object) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign
            # keys enforced, that drop would cascade to every row pointing at it (votes of
            # comments). The pragma only takes effect outside a transaction.
            await _sqlite_pragma(conn, "foreign_keys=OFF")
        try:
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Nodes started together would race to create the same tables; the
                    # first one migrates, the others wait and then find nothing to do.
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": MIGRATION_LOCK_KEY})
                await conn.run_sync(_upgrade)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left dangling references: {broken[:5]}")
        finally:
            if sqlite:
                await _sqlite_pragma(conn, "foreign_keys=ON")


async def _sqlite_pragma(conn: AsyncConnection, pragma: str) -> None:
    # Straight to the driver: through SQLAlchemy, the statement would open a transaction.
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.execute(f"PRAGMA {pragma}")


def known_revisions() -> set[str]:
    """Every revision this version of ImageChat knows (an archive names the one it was made
    on; a newer one is refused)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {r.revision for r in script.walk_revisions()}
