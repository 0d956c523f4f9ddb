"""create_app(settings): wires store, broker and services; the lifespan opens and closes them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from imagechat import __version__
from imagechat.bus.base import Broker, channel_topic
from imagechat.bus.factory import broker_from_url
from imagechat.domain.clock import Clock, SystemClock
from imagechat.domain.models import StoredEvent
from imagechat.http import comments, event_log, image_chats, server_api, widget
from imagechat.http.body_limit import BodyLimitMiddleware
from imagechat.http.errors import install_error_handlers
from imagechat.http.openapi import EVERY_OPERATION, install_openapi, replies
from imagechat.http.reply_models import Health
from imagechat.http.responses import OrjsonResponse
from imagechat.live.connection import LiveConnection
from imagechat.live.hub import Hub
from imagechat.services.container import build_services
from imagechat.settings import Settings
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade

log = logging.getLogger("imagechat")

DEMO_TENANT_ID = "demo"


class BrokerSink:
    """Hands committed events to the broker, on their channel's topic, as stored bytes."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        for event in events:
            await self.broker.publish(channel_topic(event.tenant_id, event.url_id),
                                      event.data.encode())


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        db = Database(settings.database_url)
        broker = broker_from_url(settings.broker_url)
        try:
            if settings.migrate_on_start:
                await upgrade(db.writer, settings.database_url)
            await broker.start()
            services = build_services(db, clock, BrokerSink(broker))
            if settings.demo_tenant:
                await services.tenants.ensure(DEMO_TENANT_ID, "Demo", allow_anonymous=True)
            hub = Hub(services, broker, settings.live_limits())
            await hub.start()
            app.state.settings = settings
            app.state.broker = broker
            app.state.services = services
            app.state.hub = hub
            try:
                # The lifespan state reaches uvicorn's WebSocket protocol (LiveConnection).
                yield {"hub": hub}
            finally:
                await hub.stop()
        finally:
            await broker.stop()
            await db.dispose()

    app = FastAPI(
        title="ImageChat",
        version=__version__,
        summary="Live conversations pinned to spots on images.",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        responses=EVERY_OPERATION,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # The widget runs on the customer's pages and calls this server cross-origin. No
    # cookies are involved (identity travels as SSO tokens and edit keys), so any origin
    # may read responses; per-tenant origin lists are enforced on the live handshake.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False,
                       allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Content-Type"], max_age=600)
    for module in (image_chats, comments, event_log, server_api, widget):
        app.include_router(module.router)

    @app.get("/healthz", tags=["operations"], responses=replies(Health, {}))
    async def healthz() -> dict[str, Any]:
        return {"status": "success", "version": __version__}

    return app


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
