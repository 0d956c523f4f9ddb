"""One WebSocket connection through the standard ASGI interface, under any ASGI server.

`imagechat serve` hands upgraded sockets to `connection.LiveConnection`, which writes the
hub's pre-encoded frames straight to the transport (the fast path). Under another ASGI
server (`uvicorn --factory imagechat.app:create_app`, gunicorn with uvicorn workers,
Hypercorn, Granian), `/sub` is a WebSocket route and `AsgiConnection` is the hub's
`Connection` over ASGI `receive` and `send`: the same admission, join, resume, batching,
presence, bounds and close codes, at the cost of a message and an awaited `send` per frame
and per connection. Where ASGI leaves a part to the server (docs/protocol.md, "Under
another ASGI server"):

- The 101 is the `websocket.accept`, sent once the hub has admitted the connection and
  joined it to its channel, as on the fast path; a refusal is an accept, then a close with
  its code, so that browsers see why.
- Pings and pongs belong to the server: through ASGI the hub can neither ping nor see a
  pong, so a dead peer is found by the server's own pings (uvicorn: `--ws-ping-interval`,
  `--ws-ping-timeout`), and the hub never closes a connection with 4408.
- The send buffer bound (4001) counts what waits here for `send`; the server adds what its
  flow control holds (uvicorn: up to its transport's high-water mark, 64 KiB).
- After a close, what is queued and the close itself have `CLOSE_GRACE_SECS` to go out;
  then the connection is left to the server, which ASGI cannot ask to abort it.
- Framing, masking and UTF-8 are checked by the server, with its codes (1002, 1007), and
  so is its own message size bound (uvicorn: `--ws-max-size`); a text message over
  `max_message_bytes` that it let through is closed here with 1009.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from imagechat.live.close_codes import CloseCode
from imagechat.live.connection import (
    CLOSE_GRACE_SECS,
    MAX_EARLY_MESSAGES,
    ConnectionState,
)
from imagechat.live.frames import OP_TEXT
from imagechat.live.handshake import Request
from imagechat.live.subscriber import Batch
from imagechat.rate_limit.base import MICROS, gcra

if TYPE_CHECKING:
    from imagechat.domain.models import Tenant
    from imagechat.live.hub import Hub

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ADMITTING = ConnectionState.ADMITTING
_OPEN = ConnectionState.OPEN
_CLOSING = ConnectionState.CLOSING
_CLOSED = ConnectionState.CLOSED


class _LastText:
    """The fan-out writes one frame to every subscriber in turn: its text is decoded once."""

    __slots__ = ("frame", "text")

    def __init__(self) -> None:
        self.frame = b""
        self.text: str | None = None

    def of(self, frame: bytes) -> str | None:
        """The text a server frame carries; None for a control frame (ping, pong)."""
        if frame is not self.frame:
            self.frame = frame
            if frame[0] & 0x0F != OP_TEXT:
                self.text = None
            else:
                length = frame[1] & 0x7F  # server frames are never masked
                start = 2 if length < 126 else 4 if length == 126 else 10
                self.text = frame[start:].decode()
        return self.text


_last_text = _LastText()


def request_of(scope: Message) -> Request:
    """The handshake as the hub reads it, from an ASGI `websocket` scope."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1")
               for name, value in scope.get("headers") or ()}
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    # The query is form data: `+` is a space, as the reference clients encode it.
    params = dict(parse_qsl(query, keep_blank_values=True))
    return Request(path=scope.get("path", ""), params=params, headers=headers,
                   key=headers.get("sec-websocket-key", ""))


class AsgiConnection:
    """The hub's `Connection` over one ASGI WebSocket (see the module doc)."""

    def __init__(self, hub: Hub, send: Send, address: str) -> None:
        self.hub = hub
        self._send = send
        self._max_send_buffer = hub.limits.max_send_buffer
        self._max_message_bytes = hub.limits.max_message_bytes
        self.state = _ADMITTING
        self.tenant: Tenant | None = None
        self.batch: Batch | None = None
        self.user_id_ws = ""
        # The client's address: the server's `scope["client"]`, after its own proxy rules.
        self.address = address
        self.address_slot: str | None = None
        self.channel_keys: set[str] = set()
        self.inbox_key: str | None = None
        # What waits for `send`, in order, with the frame sizes the bound counts.
        self._outbox: deque[tuple[Message, int]] = deque()
        self._queued_bytes = 0
        self._wake = asyncio.Event()
        self._accept: Message | None = {"type": "websocket.accept"}
        self._early: list[bytes] = []
        self._messages_tat_us = 0  # client message rate, see LiveLimits
        self._deadline: asyncio.Timeout | None = None
        self._receiver: asyncio.Task[None] | None = None

    @property
    def closing(self) -> bool:
        return self.state is _CLOSING or self.state is _CLOSED

    @property
    def last_received(self) -> float:
        # Liveness is the server's (its pings and pongs, which ASGI does not show): to the
        # hub's heartbeat, this connection is never silent.
        return time.monotonic()

    # the ASGI application's call --------------------------------------------------------
    async def run(self, receive: Receive, request: Request) -> None:
        """Admit, then send what the hub writes until the connection ends."""
        try:
            async with asyncio.timeout(None) as self._deadline:
                self.hub.admit(self, request)
                if self.closing:
                    self._expire(CLOSE_GRACE_SECS)
                await self._send_loop(receive)
        except (TimeoutError, OSError):
            pass  # the grace after a close ran out, or the client went away mid-send
        finally:
            self._deadline = None
            if self._receiver is not None:
                self._receiver.cancel()
            self._gone()

    async def _send_loop(self, receive: Receive) -> None:
        outbox, wake = self._outbox, self._wake
        while True:
            while not outbox:
                if self.state is _CLOSED:
                    return
                wake.clear()
                await wake.wait()
            message, size = outbox.popleft()
            await self._send(message)
            self._queued_bytes -= size
            kind = message["type"]
            if kind == "websocket.close":
                return
            if kind == "websocket.accept":
                self._receiver = asyncio.create_task(self._receive_loop(receive))

    async def _receive_loop(self, receive: Receive) -> None:
        while True:
            try:
                message = await receive()
            except Exception:  # the server lost the connection in its own way
                message = {"type": "websocket.disconnect"}
            kind = message["type"]
            if kind == "websocket.disconnect":
                self._gone()
                return
            if kind != "websocket.receive" or self.closing:
                continue
            text = message.get("text")
            if text is None:
                self.close(CloseCode.UNSUPPORTED_DATA, "This endpoint speaks JSON text frames.")
            else:
                self._on_text(text)

    # messages ---------------------------------------------------------------------------
    def _on_text(self, text: str) -> None:
        payload = text.encode()
        if len(payload) > self._max_message_bytes:
            self.close(CloseCode.TOO_BIG, f"Message larger than {self._max_message_bytes} bytes.")
        elif self.state is _ADMITTING:
            if len(self._early) >= MAX_EARLY_MESSAGES:
                self.close(CloseCode.RATE_LIMITED, "Too many messages before admission.")
            else:
                self._early.append(payload)
        elif not self._flooding():
            self.hub.on_text(self, payload)

    def _flooding(self) -> bool:
        """Counts one message against the connection's rate; past it, closes with 4429."""
        hub = self.hub
        tat, wait = gcra(self._messages_tat_us, int(time.monotonic() * MICROS),
                         hub.limits.client_message_rate)
        if not wait:
            self._messages_tat_us = tat
            return False
        hub.stats["message_flood_disconnects"] += 1
        self.close(CloseCode.RATE_LIMITED, "Too many messages; slow down.")
        return True

    def admitted_now(self) -> list[bytes]:
        """Called by the hub when its checks pass; returns messages that arrived early."""
        if self.state is _ADMITTING:
            self.state = _OPEN
        self._queue_accept()
        early, self._early = self._early, []
        return early

    # sending ----------------------------------------------------------------------------
    def write(self, frame: bytes) -> bool:
        """Queue a frame; False when the connection is closing or just overflowed."""
        if self.state is not _OPEN:
            if self.state is not _ADMITTING:
                return False
            self._queue_accept()  # before the first frame (a resume's replay)
        text = _last_text.of(frame)
        if text is None:
            return True  # pings and pongs are the server's (module doc)
        self._outbox.append(({"type": "websocket.send", "text": text}, len(frame)))
        self._queued_bytes += len(frame)
        self._wake.set()
        if self._queued_bytes > self._max_send_buffer:
            self.hub.stats["slow_consumer_disconnects"] += 1
            self.close(CloseCode.SLOW_CONSUMER, "Too far behind; reconnect and resume.")
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.state = _CLOSING
        self.hub.drop(self)
        self._queue_accept()
        # At most 123 bytes of reason fit a close frame; cut at a character boundary.
        reason = reason.encode()[:123].decode("utf-8", "ignore")
        self._outbox.append(({"type": "websocket.close", "code": code, "reason": reason}, 0))
        self._wake.set()
        self._expire(CLOSE_GRACE_SECS)

    def _queue_accept(self) -> None:
        accept, self._accept = self._accept, None
        if accept is not None:
            self._outbox.append((accept, 0))
            self._wake.set()

    def _gone(self) -> None:
        """The client went away, or the connection's call ended: forget it everywhere."""
        if self.state is _CLOSED:
            return
        self.state = _CLOSED
        self._outbox.clear()
        self._queued_bytes = 0
        self._wake.set()
        self.hub.drop(self)
        self._expire(0.0)  # a send that waits for a gone client waits no more

    def _expire(self, secs: float) -> None:
        """End the connection's call within `secs`, unless it ends sooner."""
        deadline = self._deadline
        if deadline is not None:
            when = asyncio.get_running_loop().time() + secs
            current = deadline.when()
            if current is None or when < current:
                deadline.reschedule(when)


class LiveRoute:
    """The ASGI application of the `/sub` WebSocket route (Starlette's `WebSocketRoute`
    takes any class instance as a raw ASGI app)."""

    def __init__(self, hub: Callable[[], Hub | None]) -> None:
        self._hub = hub

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or (await receive())["type"] != "websocket.connect":
            return
        hub = self._hub()
        if hub is None:  # the lifespan did not run: the server answers 403
            await send({"type": "websocket.close", "code": CloseCode.SERVER_ERROR})
            return
        client = scope.get("client")
        conn = AsgiConnection(hub, send, client[0] if client else "")
        await conn.run(receive, request_of(scope))
