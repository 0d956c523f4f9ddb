"""Typed settings from flags and IMAGECHAT_* environment variables, built once at start."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from imagechat.live.limits import CLIENT_MESSAGES_BURST, LiveLimits


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
    # Serve HTTPS and WSS with this certificate chain and key (PEM files).
    tls_cert: str = ""
    tls_key: str = ""
    log_level: str = "info"
    # One JSON object per log line instead of plain text.
    log_json: bool = False
    # GET /metrics in Prometheus format; when a token is set, scrapes must send it as
    # `Authorization: Bearer <token>`.
    metrics_enabled: bool = False
    metrics_token: str = ""
    # Largest accepted request body, in bytes.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # Live endpoint bounds (see imagechat.live.limits for what each costs).
    ws_max_send_buffer: int = Field(default=512 * 1024, ge=16 * 1024)
    ws_max_channels: int = Field(default=100, ge=1)
    ws_heartbeat_secs: float = Field(default=25.0, gt=0)
    ws_idle_timeout_secs: float = Field(default=75.0, gt=0)
    # Live connections one client address may hold open on one node; 0: no bound.
    ws_max_connections_per_ip: int = Field(default=100, ge=0)

    # Rate limits in events per minute, each also the largest burst; 0 turns one off.
    # Shared by all nodes through Redis when redis_url is set (see imagechat.rate_limit).
    rate_limit_writes_per_visitor: int = Field(default=120, ge=0)
    rate_limit_writes_per_tenant: int = Field(default=3000, ge=0)
    rate_limit_connects_per_visitor: int = Field(default=120, ge=0)
    rate_limit_connects_per_tenant: int = Field(default=6000, ge=0)
    rate_limit_redis_prefix: str = "imagechat:rl:"

    # Event history kept per image for resync: at most this many events, none older.
    history_max_events: int = Field(default=10_000, ge=1)
    history_max_age_hours: float = Field(default=7 * 24, gt=0)

    # Signs dashboard session cookies. Empty: a random key made at start, so dashboard
    # sessions end when the server restarts (and are not valid on other nodes).
    session_secret: SecretStr = SecretStr("")

    def live_limits(self) -> LiveLimits:
        return LiveLimits(
            max_send_buffer=self.ws_max_send_buffer,
            max_channels_per_connection=self.ws_max_channels,
            heartbeat_interval_secs=self.ws_heartbeat_secs,
            idle_timeout_secs=self.ws_idle_timeout_secs,
            max_connections_per_address=self.ws_max_connections_per_ip,
            # A page may join all its images at once, and again after a resync.
            client_messages_burst=max(CLIENT_MESSAGES_BURST, 2 * self.ws_max_channels),
            history_max_events=self.history_max_events,
            history_max_age_ms=int(self.history_max_age_hours * 3_600_000),
        )

    @property
    def broker_url(self) -> str:
        return self.redis_url or "memory://"
