"""Typed settings from flags and IMAGECHAT_* environment variables, built once at start.

The one place where each setting's default and meaning are written: the live endpoint's
bounds (`imagechat.live.limits.LiveLimits`) are built from these, and the README's
configuration table is checked against them (`tests/unit/test_settings.py`).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMAGECHAT_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, description="port to listen on")
    database_url: str = Field(
        default="sqlite+aiosqlite:///imagechat.db",
        description="`sqlite+aiosqlite:///path.db` or `postgresql+asyncpg://user:pass@host/db`")
    # Empty: the in-process broker, which serves one node.
    redis_url: str = Field(
        default="", description="`redis://host:6379/0` to share live events between nodes")
    # Each worker is a whole node (its own hub and pools) on the one port.
    workers: int = Field(
        default=1, ge=1,
        description="processes serving on the one port (SO_REUSEPORT), each a node; more "
                    "than one needs `IMAGECHAT_REDIS_URL`")
    tls_cert: str = Field(
        default="", description="PEM certificate chain: serve HTTPS and WSS on the same port")
    tls_key: str = Field(default="", description="PEM private key for the certificate")
    migrate_on_start: bool = Field(
        default=True, description="apply database migrations when the server starts")
    demo_tenant: bool = Field(
        default=True,
        description="create the `demo` tenant (anonymous visitors, any origin)")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024,
                                description="largest accepted request body")

    # Bounds of the live endpoint. Worst-case memory of a stuck connection is its send
    # buffer: 512 KiB holds about 1,000 typical events.
    ws_max_send_buffer: int = Field(
        default=512 * 1024, ge=16 * 1024,
        description="unsent bytes a live connection may pile up before it is closed (4001)")
    # A page with many images shares one connection; each image it watches costs a
    # subscription and, on join or resync, a history read.
    ws_max_channels: int = Field(default=100, ge=1,
                                 description="images one live connection may watch")
    # The reference clients ping every 25 s; a connection silent for three heartbeats is gone.
    ws_heartbeat_secs: float = Field(default=25.0, gt=0,
                                     description="ping a live connection silent for this long")
    ws_idle_timeout_secs: float = Field(
        default=75.0, gt=0, description="close a live connection silent for this long (4408)")
    # A connection costs a few KiB idle and up to the send buffer when its client stalls.
    ws_max_connections_per_ip: int = Field(
        default=100, ge=0,
        description="live connections one client address may hold open on one node (4429); "
                    "`0`: no bound")

    # Rate limits count events per minute, each also the largest burst. Shared by all nodes
    # through Redis when redis_url is set (see imagechat.rate_limit).
    rate_limit_writes_per_visitor: int = Field(
        default=120, ge=0,
        description="writes per minute, and largest burst, of one visitor of a site; `0`: off")
    rate_limit_writes_per_tenant: int = Field(
        default=3000, ge=0,
        description="writes per minute of a whole site (its visitors and its `/api/v1` "
                    "calls); `0`: off")
    rate_limit_connects_per_visitor: int = Field(
        default=120, ge=0,
        description="live connection attempts per minute of one visitor of a site; `0`: off")
    rate_limit_connects_per_tenant: int = Field(
        default=6000, ge=0,
        description="live connection attempts per minute to a whole site; `0`: off")
    rate_limit_redis_prefix: str = Field(default="imagechat:rl:",
                                         description="prefix of the rate-limit keys in Redis")

    # What resume can replay: a client away for longer, or further behind, reloads instead.
    history_max_events: int = Field(default=10_000, ge=1,
                                    description="events kept per image for resume")
    history_max_age_hours: float = Field(
        default=7 * 24, gt=0, description="age after which events are dropped from the history")

    log_level: str = Field(default="info", description="`debug`, `info`, `warning`, `error`")
    log_json: bool = Field(
        default=False, description="log one JSON object per line instead of plain text")
    metrics_enabled: bool = Field(
        default=False, description="serve Prometheus metrics at `GET /metrics` (404 when off)")
    metrics_token: str = Field(
        default="", description="when set, `/metrics` answers 401 unless the request sends "
                                "`Authorization: Bearer <token>`")

    # Empty: a random key made at start, so dashboard sessions end when the server restarts
    # (and are not valid on other nodes).
    session_secret: SecretStr = Field(
        default=SecretStr(""),
        description="signs dashboard session cookies; set the same long random value on "
                    "every node, or sessions end at each restart and work only on the node "
                    "that issued them")

    @property
    def broker_url(self) -> str:
        return self.redis_url or "memory://"
