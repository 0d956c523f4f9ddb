"""create_app(settings): wires store, broker and services; the lifespan opens and closes them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.routing import WebSocketRoute

from imagechat import __version__
from imagechat.auth.sessions import SessionCodec
from imagechat.bus.base import Broker, channel_key, inbox_key
from imagechat.bus.factory import broker_from_url
from imagechat.domain.clock import Clock, SystemClock
from imagechat.domain.models import StoredEvent
from imagechat.http import annotations as web_annotations
from imagechat.http import (
    comments,
    dashboard,
    docs,
    event_log,
    image_chats,
    image_export,
    image_versions,
    moderation,
    notifications,
    server_api,
    server_moderation,
    server_webhooks,
    unsubscribe,
    users,
    widget,
)
from imagechat.http import metrics as metrics_endpoint
from imagechat.http.body_limit import BodyLimitMiddleware
from imagechat.http.cors import TenantCORSMiddleware
from imagechat.http.errors import install_error_handlers
from imagechat.http.observe import RequestObserver
from imagechat.http.openapi import EVERY_OPERATION, install_openapi, replies
from imagechat.http.reply_models import Health, NotReady, Ready
from imagechat.http.responses import OrjsonResponse
from imagechat.live.asgi import LiveRoute
from imagechat.live.connection import LIVE_PATH, LiveConnection
from imagechat.live.hub import Hub
from imagechat.live.limits import LiveLimits
from imagechat.ops.logs import log_config
from imagechat.ops.metrics import Metrics
from imagechat.outbound.images import FetchLimits
from imagechat.rate_limit.factory import limiter_from_url
from imagechat.rate_limit.policy import RateLimits
from imagechat.services.container import Services, build_services
from imagechat.services.email_digest import EMAIL, DigestPlanner, EmailConfig, EmailCourier
from imagechat.services.image_versions import ImageLimits
from imagechat.services.outbox import Courier, DeliveryWorker, OutboxPolicy, Settled
from imagechat.services.readiness import Readiness
from imagechat.services.recorder import Notice
from imagechat.services.webhook_courier import WEBHOOK, WebhookCourier, WebhookOptions
from imagechat.settings import Settings
from imagechat.store.database import Database
from imagechat.store.migrate import require_current, upgrade

log = logging.getLogger("imagechat")

DEMO_TENANT_ID = "demo"


class BrokerSink:
    """Hands committed events to the broker, under their channel's key, as stored bytes."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.published = 0  # events handed over since start (imagechat_events_published)

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        for event in events:
            await self.broker.publish(channel_key(event.tenant_id, event.url_id),
                                      event.data.encode())
            self.published += 1

    async def notify(self, notices: Sequence[Notice]) -> None:
        for notice in notices:
            await self.broker.publish(inbox_key(notice.tenant_id, notice.user_key),
                                      notice.data)


def couriers(settings: Settings, services: Services) -> dict[str, Courier]:
    """Who makes each kind of outbox delivery on this node: webhooks always, emails when
    the server has SMTP set up (and then notifications plan their digests)."""
    found: dict[str, Courier] = {WEBHOOK: WebhookCourier(services.db, services.clock,
                                                         WebhookOptions(
        allow_private=settings.outbound_allow_private,
        timeout_secs=settings.webhook_timeout_secs,
        disable_after_hours=settings.webhook_disable_after_hours))}
    email = EmailConfig.from_settings(settings)
    if email is not None:
        found[EMAIL] = EmailCourier(services.db, services.clock, email)
        services.writer.on_notifications = DigestPlanner(email.window_ms)
    return found


# Said once at start when live connections come through the ASGI route.
ASGI_LIVE_NOTE = (
    "Live connections (/sub) are served through the standard ASGI WebSocket route: same "
    "protocol, slower than the fast path of `imagechat serve`; pings, UTF-8 and message "
    "size checks are this server's (README: \"Under another ASGI server\").")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               live_fast_path: bool = False) -> FastAPI:
    """The application. `live_fast_path`: the server hands `/sub` upgrades to
    `LiveConnection` (`server_options`), as `imagechat serve` does; else they come through
    the ASGI route (`live/asgi.py`) of whatever server runs the app."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    metrics = Metrics() if settings.metrics_enabled else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        db = Database(settings.database_url)
        broker = broker_from_url(settings.broker_url)
        rate_limits = RateLimits(
            limiter_from_url(settings.redis_url, prefix=settings.rate_limit_redis_prefix),
            writes_per_visitor=settings.rate_limit_writes_per_visitor,
            writes_per_tenant=settings.rate_limit_writes_per_tenant,
            connects_per_visitor=settings.rate_limit_connects_per_visitor,
            connects_per_tenant=settings.rate_limit_connects_per_tenant,
        )
        sink = BrokerSink(broker)
        policy = OutboxPolicy.from_settings(settings)
        # With the demo switched off, a `demo` tenant left in the database is refused
        # like an unknown one: no reads, no writes, no live connections.
        services = build_services(db, clock, sink,
                                  refused_tenants=() if settings.demo_tenant
                                  else (DEMO_TENANT_ID,),
                                  outbound_allow_private=settings.outbound_allow_private,
                                  outbox_lease_ms=policy.lease_ms,
                                  images=image_limits(settings))
        hub = Hub(services, broker, LiveLimits.from_settings(settings), rate_limits)
        readiness = Readiness(db, broker, shared_broker=bool(settings.redis_url))

        async def prepare_database(_retrying: bool) -> None:
            if settings.migrate_on_start:
                await upgrade(db.writer, settings.database_url)
            else:
                await require_current(db.writer)
            if settings.demo_tenant:
                await services.tenants.ensure(DEMO_TENANT_ID, "Demo", allow_anonymous=True)

        async def start_broker(retrying: bool) -> None:
            await broker.start()
            if retrying:
                # Events written meanwhile reached only this node's clients: catch up.
                await hub.delivery.on_reconnect()

        app.state.settings = settings
        app.state.readiness = readiness
        try:
            await readiness.start({"database": prepare_database, "broker": start_broker})
            # One delivery worker per node; a local write that made deliveries wakes it. It
            # waits out a database that is not there yet, as every background loop does.
            worker = DeliveryWorker(db, clock, policy, couriers(settings, services),
                                    observer=_delivery_observer(metrics, clock))
            services.writer.on_deliveries = worker.wake
            worker.start()
            app.state.outbox = worker
            await hub.start()
            if metrics is not None:
                metrics.watch(hub, sink)
            app.state.broker = broker
            app.state.services = services
            app.state.hub = hub
            app.state.rate_limits = rate_limits
            if not live_fast_path:
                log.warning(ASGI_LIVE_NOTE)
            log.info("ImageChat %s started", __version__)
            try:
                # The lifespan state reaches uvicorn's WebSocket protocol (LiveConnection).
                yield {"hub": hub}
            finally:
                await hub.stop()
                await worker.stop()
                await services.image_versions.close()
        finally:
            await readiness.stop()
            await broker.stop()
            await rate_limits.close()
            await db.dispose()

    app = FastAPI(
        title="ImageChat",
        version=__version__,
        summary="Live conversations pinned to spots on images.",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        responses=EVERY_OPERATION,
        # Served by http/docs.py with their assets from this server, not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    # Dashboard session cookies; with no configured secret they last until a restart.
    app.state.sessions = SessionCodec.from_setting(
        settings.session_secret.get_secret_value())
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       larger={image_versions.UPLOAD_PATH: settings.image_max_bytes})
    app.add_middleware(TenantCORSMiddleware)
    # Outermost: times and logs every request, including those refused above.
    app.add_middleware(RequestObserver, latency=metrics.http_latency if metrics else None)
    for module in (image_chats, image_versions, comments, moderation, notifications, users,
                   event_log, server_api, server_moderation, server_webhooks, widget, dashboard,
                   docs, unsubscribe, image_export, web_annotations):
        app.include_router(module.router)
    app.include_router(image_versions.backend_router)
    if metrics is not None:
        app.state.metrics = metrics
        app.include_router(metrics_endpoint.router)
    # Under `imagechat serve`, upgrades never reach these routes (LiveConnection takes them).
    live_route = LiveRoute(lambda: getattr(app.state, "hub", None))
    app.router.routes += [WebSocketRoute(LIVE_PATH, live_route),
                          WebSocketRoute(f"{LIVE_PATH}/", live_route)]

    @app.get("/healthz", tags=["operations"], responses=replies(Health, {}))
    async def healthz() -> dict[str, Any]:
        """Liveness: the process answers. Says nothing of the database or the broker."""
        return {"status": "success", "version": __version__}

    @app.get("/readyz", tags=["operations"],
             responses={200: {"model": Ready, "description": "Ready to serve."},
                        503: {"model": NotReady,
                              "description": "A dependency is down; see `checks`."}})
    async def readyz(request: Request) -> Response:
        """Readiness: the database answers, and the shared broker when one is set up."""
        found: Readiness = request.app.state.readiness
        checks = await found.checks()
        ready = all(state == "ok" for state in checks.values())
        return OrjsonResponse({"status": "success" if ready else "failed", "checks": checks},
                              status_code=200 if ready else 503)

    return app


def _delivery_observer(metrics: Metrics | None, clock: Clock
                       ) -> Callable[[Settled], None] | None:
    if metrics is None:
        return None
    return lambda settled: metrics.observe_delivery(settled, clock.now_ms())


def image_limits(settings: Settings) -> ImageLimits:
    return ImageLimits(
        fetch=FetchLimits(allow_private=settings.outbound_allow_private,
                          max_bytes=settings.image_max_bytes,
                          timeout_secs=settings.image_fetch_timeout_secs),
        max_pixels=settings.image_max_pixels,
        recheck_ms=int(settings.image_recheck_secs * 1000))


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options: our own WebSocket protocol on the same port as the REST API.

    `LiveConnection` takes over upgraded sockets at `/sub` and writes pre-encoded frames
    straight to them (see imagechat.live); per-message deflate stays off, it would cost
    tens of KiB per connection and the frames are small JSON.
    """
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_level, json=settings.log_json),
        # Access lines come from http/observe.py, which knows each request's duration.
        "access_log": False,
        "proxy_headers": True,
        "ws": LiveConnection,
        "lifespan": "on",
    }
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise ValueError("TLS needs both a certificate (--tls-cert) and a key (--tls-key).")
        options["ssl_certfile"] = settings.tls_cert
        options["ssl_keyfile"] = settings.tls_key
    return options
