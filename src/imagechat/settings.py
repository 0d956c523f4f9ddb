"""Typed settings from flags and IMAGECHAT_* environment variables, built once at start.

The one place where each setting's default and meaning are written: the live endpoint's
bounds (`imagechat.live.limits.LiveLimits`) are built from these, and the README's
configuration table is checked against them (`tests/unit/test_settings.py`).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# The async driver this server runs each database on, by the scheme an operator may write.
_DATABASE_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_BROKER_SCHEMES = ("redis://", "rediss://", "unix://")


def database_url_for(url: str) -> str:
    """The URL with its async driver: `postgresql://` and `sqlite:///` are accepted as
    written elsewhere (psql, SQLAlchemy, other tools). ValueError for anything else."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL") from None
    driver = _DATABASE_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(f"the scheme {parsed.drivername!r} is not supported: use "
                         "sqlite:///path.db or postgresql://user:pass@host/db")
    if driver.startswith("sqlite") and not parsed.database:
        raise ValueError("an SQLite URL names a file: sqlite:///path.db")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMAGECHAT_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, description="port to listen on")
    database_url: str = Field(
        default="sqlite+aiosqlite:///imagechat.db",
        description="`sqlite:///path.db` or `postgresql://user:pass@host/db` (the async "
                    "drivers, aiosqlite and asyncpg, are chosen by the server)")
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
        default=True,
        description="apply database migrations when the server starts; `false`: a node on "
                    "a schema that is behind waits, `/readyz` answering 503, until "
                    "`imagechat migrate` has run")
    demo_tenant: bool = Field(
        default=True,
        description="create the `demo` tenant (anonymous visitors, any origin); `false` "
                    "refuses it like an unknown tenant, even if it exists")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024,
                                description="largest accepted request body")
    annotation_page_size: int = Field(
        default=100, ge=1, le=1000,
        description="annotations per page of an image's W3C Web Annotation container")

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

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, value: str) -> str:
        return database_url_for(value)

    @field_validator("redis_url")
    @classmethod
    def _broker_scheme(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(_BROKER_SCHEMES):
            raise ValueError(f"{value!r} is not a Redis URL: use redis://host:6379/0")
        return value

    # The address visitors reach the server at, for links the server hands out in messages
    # that leave it (emails). Behind a proxy, the server cannot know it by itself.
    public_url: str = Field(
        default="", description="the address visitors reach the server at, such as "
                                "`https://chat.example.com`, for links in what the server "
                                "sends out (emails, their unsubscribe links); empty: the "
                                "server's own host and port")

    # Every request the server makes to addresses a site chose (webhooks, image fetches).
    outbound_allow_private: bool = Field(
        default=False, description="let outbound requests (webhooks, image fetches) reach "
                                   "loopback, private and link-local addresses; for tests and "
                                   "internal networks")

    # The outbox (imagechat.services.outbox): deliveries that leave the server.
    outbox_retry_first_secs: float = Field(
        default=10.0, gt=0, description="wait before the first retry of a failed delivery "
                                        "(webhook, email); it doubles, with jitter, each time")
    outbox_retry_max_secs: float = Field(
        default=3600.0, gt=0, description="longest wait between two tries of a delivery")
    outbox_give_up_hours: float = Field(
        default=24.0, gt=0, description="a delivery still failing this long after it was made "
                                        "is marked failed (and kept)")
    outbox_keep_days: float = Field(
        default=7.0, gt=0, description="finished deliveries (delivered or failed) are deleted "
                                       "this long after they finished")
    # Longer than any attempt may take: webhooks answer within their timeout, SMTP in 30 s.
    outbox_lease_secs: float = Field(
        default=120.0, gt=0, description="a delivery taken by a node that never reports (it "
                                         "died) is tried again after this long; keep it above "
                                         "the slowest attempt")
    webhook_timeout_secs: float = Field(
        default=10.0, gt=0, le=60, description="a webhook POST succeeds when a 2xx answer "
                                               "arrives within this time")
    webhook_disable_after_hours: float = Field(
        default=24.0, gt=0, description="a webhook endpoint whose deliveries all failed for "
                                        "this long is disabled")

    # Email notifications (mentions, replies): off unless both of these are set.
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        description="`smtp://user:password@host:587` (STARTTLS when the server offers it) or "
                    "`smtps://user:password@host:465` (TLS from the start); empty: no email")
    email_from: str = Field(
        default="", description="the From of notification emails, e.g. "
                                "`ImageChat <chat@example.com>`; empty: no email")
    email_digest_minutes: float = Field(
        default=10.0, ge=0,
        description="a user's notifications within this many minutes go out as one email; "
                    "`0`: each at once")

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_url.get_secret_value() and self.email_from)

    # Image versions (docs/data-model.md, "Fetching images"). An image is decoded whole
    # before it is shrunk: 40 million pixels cost 120 MB while its carry-over runs.
    image_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024,
        description="largest image the server fetches or takes as an upload (413 past it)")
    image_max_pixels: int = Field(
        default=40_000_000, ge=1,
        description="most pixels (width x height, read from the header before decoding) of "
                    "an image the server reads (422 past it)")
    image_fetch_timeout_secs: float = Field(
        default=10.0, gt=0, description="time limit of one image fetch, redirects included "
                                        "(504 past it)")
    image_recheck_secs: float = Field(
        default=300.0, ge=0,
        description="how long an image address the server fetched is trusted before a "
                    "report of it makes the server fetch it again, to see whether its content "
                    "changed")

    @property
    def broker_url(self) -> str:
        return self.redis_url or "memory://"
