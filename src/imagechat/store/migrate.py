"""Apply Alembic migrations from code (used by `imagechat migrate` and at server start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
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
