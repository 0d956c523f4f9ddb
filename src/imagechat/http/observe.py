"""Every HTTP request, once it is answered: one access log line and one latency sample.

The outermost middleware, so the time includes CORS preflights and refused bodies. The
latency histogram is labelled by route *template* (`/comments/{tenantId}`), never by the raw
path, so its number of series stays bounded whatever clients send. Requests that no route
answered share one label: those no route matches (404) and those answered before routing
(CORS preflights, bodies over the limit), told apart by their method and status labels.
WebSocket upgrades never come here (imagechat.live answers them).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagechat.ops.logs import redact

access_log = logging.getLogger("imagechat.access")

UNMATCHED_ROUTE = "(unmatched)"
# Other method names are folded into one label: a client may send any token as a method.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestObserver:
    def __init__(self, app: ASGIApp, latency: Histogram | None = None) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Stays 500 if the app raises before answering: the server then answers 500.
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            if self.latency is not None:
                method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
                self.latency.labels(method, route_of(scope), str(status)).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, status, elapsed)


def route_of(scope: Scope) -> str:
    """The path template of the route that answered (the router records it in the scope)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def _log_access(scope: Scope, status: int, elapsed: float) -> None:
    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "-"
    path = quote(scope.get("root_path", "") + scope["path"])
    query = scope.get("query_string", b"")
    if query:
        # The handlers' RedactSecrets filter masks secrets too; masking here as well keeps
        # them out of logs set up by an embedding program (gunicorn, pytest) without it.
        path = redact(f"{path}?{query.decode('latin-1')}")
    duration_ms = round(elapsed * 1000, 2)
    access_log.info(
        '%s - "%s %s HTTP/%s" %d %.2fms', peer, scope["method"], path,
        scope.get("http_version", "1.1"), status, duration_ms,
        extra={"method": scope["method"], "path": path, "status": status,
               "duration_ms": duration_ms, "client": peer},
    )
