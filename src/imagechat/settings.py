"""Typed settings from flags and IMAGECHAT_* environment variables, built once at start."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMAGECHAT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # sqlite+aiosqlite:///path/to/file.db (embedded default) or
    # postgresql+asyncpg://user@host/dbname (several nodes).
    database_url: str = "sqlite+aiosqlite:///imagechat.db"
    # Empty: the in-process broker (one node). redis://host:6379/0 for several nodes.
    redis_url: str = ""
    # Apply database migrations when the server starts.
    migrate_on_start: bool = True
    # Create the `demo` tenant (anonymous visitors, any origin) if it does not exist.
    demo_tenant: bool = True
    log_level: str = "info"
    log_json: bool = False
    # Largest accepted request body, in bytes.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @property
    def broker_url(self) -> str:
        return self.redis_url or "memory://"
