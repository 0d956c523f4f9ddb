"""Apply Alembic migrations from code (used by `imagechat migrate` and at server start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number; it names the advisory lock migrations take on PostgreSQL.
MIGRATION_LOCK_KEY = 7_114_327_010


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs may carry percent-escapes.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, url: str) -> None:
    """Bring the schema to the newest revision, on the given engine."""

    def _upgrade(connection: object) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Nodes started together would race to create the same tables; the first one
            # migrates, the others wait and then find nothing to do.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK_KEY})
        await conn.run_sync(_upgrade)
