"""One WebSocket connection, as the asyncio protocol uvicorn hands an upgraded socket to.

No task per connection: the protocol reacts to bytes as they arrive and the hub writes
pre-encoded frames straight to the transport. That keeps an idle connection small and lets
one encoded event serve every subscriber.

Backpressure: `transport.write` never blocks; instead, when a connection's unsent bytes
pass `max_send_buffer`, it is closed with 4001 (slow consumer, `LiveConnection.write`). The
client resumes through resync; nobody else waits for it.

A connection goes through the states of `ConnectionState`, in order (a refused handshake
skips to REFUSED, and any state may end in CLOSED when the peer goes away).
"""

from __future__ import annotations

import asyncio
import logging
import time
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from imagechat.live.close_codes import CloseCode
from imagechat.live.forwarded import client_address, trusted_proxies_of
from imagechat.live.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    ProtocolError,
    close_frame,
    encode_frame,
    parse_close,
)
from imagechat.live.handshake import (
    MAX_HANDSHAKE_BYTES,
    HandshakeError,
    accept_response,
    error_response,
    find_end,
    parse_request,
)
from imagechat.live.subscriber import Batch
from imagechat.rate_limit.base import MICROS, gcra

if TYPE_CHECKING:
    from imagechat.domain.models import Tenant
    from imagechat.live.hub import Hub

log = logging.getLogger("imagechat.live")

LIVE_PATH = "/sub"
# A peer that does not finish its closing handshake is cut off after this long.
CLOSE_GRACE_SECS = 2.0
# Messages a client may send before its handshake checks are done; more is abuse.
MAX_EARLY_MESSAGES = 16


class ConnectionState(Enum):
    # Reading the HTTP request that asks for the upgrade.
    HANDSHAKE = "handshake"
    # Answered with an HTTP error (not a WebSocket request for /sub); the socket is closing.
    REFUSED = "refused"
    # The upgrade was asked for; the hub checks it. The 101 answer waits until the
    # connection has joined its channel (or anything is written to it); text messages are
    # kept until then.
    ADMITTING = "admitting"
    # Admitted: messages go to the hub.
    OPEN = "open"
    # A close frame was sent (or the peer's echoed); nothing more is written.
    CLOSING = "closing"
    # The socket is gone.
    CLOSED = "closed"


_ADMITTING, _OPEN = ConnectionState.ADMITTING, ConnectionState.OPEN
_WRITABLE = (_ADMITTING, _OPEN)
_CLOSING = (ConnectionState.CLOSING, ConnectionState.CLOSED)


class LiveConnection(asyncio.Protocol):
    """uvicorn's `ws` protocol class: `Config(ws=LiveConnection)`."""

    def __init__(self, config: Any = None, server_state: Any = None,
                 app_state: dict[str, Any] | None = None, **_: Any) -> None:
        self.hub: Hub | None = (app_state or {}).get("hub")
        limits = self.hub.limits if self.hub else None
        # Read on every write: kept here rather than looked up through the hub each time.
        self._max_send_buffer = limits.max_send_buffer if limits else 0
        self.config = config
        self.state = ConnectionState.HANDSHAKE
        self.transport: asyncio.Transport | None = None
        # The request head (while in HANDSHAKE) and the text messages received while
        # ADMITTING. Once used they are set to b"" and (), shared empty values: an idle
        # connection keeps no buffer for them.
        self._head: bytes | bytearray = bytearray()
        self._early: tuple[bytes, ...] = ()
        self.reader = FrameReader(limits.max_message_bytes if limits else 0)
        self._accept = b""  # the 101 answer, until it is written
        self.tenant: Tenant | None = None
        self.channel_keys: set[str] = set()
        self.inbox_key: str | None = None
        self.user_id_ws = ""
        self.batch: Batch | None = None
        self.last_received = time.monotonic()
        self.peer = ""
        # The client's address (behind trusted proxies, the one they name), and the key the
        # hub counts this connection under while it is open.
        self.address = ""
        self.address_slot: str | None = None
        self._messages_tat_us = 0  # client message rate, see LiveLimits

    @property
    def closing(self) -> bool:
        return self.state in _CLOSING

    @property
    def open(self) -> bool:
        """The handshake was read and the connection is not closing."""
        return self.state in _WRITABLE

    @property
    def admitted(self) -> bool:
        return self.state is _OPEN

    # asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) else ""

    def data_received(self, data: bytes) -> None:
        self.last_received = time.monotonic()
        if self.state is ConnectionState.HANDSHAKE:
            self._handshake_bytes(data)
            return
        if self.state not in _WRITABLE:
            return
        try:
            messages = self.reader.feed(data)
        except ProtocolError as exc:
            self.close(exc.close_code, exc.reason)
            return
        for message in messages:
            if self.closing:
                return
            self._on_message(message.opcode, message.payload)

    def connection_lost(self, exc: Exception | None) -> None:
        was_registered = self.state in _WRITABLE or self.state is ConnectionState.CLOSING
        self.state = ConnectionState.CLOSED
        if self.hub is not None and was_registered:
            self.hub.drop(self)

    # handshake --------------------------------------------------------------------------
    def _handshake_bytes(self, data: bytes) -> None:
        self._head += data
        end = find_end(self._head)
        if end < 0:
            if len(self._head) > MAX_HANDSHAKE_BYTES:
                self._refuse(HandshakeError(400, "Handshake too large."))
            return
        head, rest = bytes(self._head[:end]), bytes(self._head[end:])
        self._head = b""
        try:
            request = parse_request(head)
            if request.path.rstrip("/") != LIVE_PATH:
                raise HandshakeError(404, f"No WebSocket endpoint at {request.path}.")
            if self.hub is None:
                raise HandshakeError(404, "The live hub is not running.")
        except HandshakeError as exc:
            self._refuse(exc)
            return
        assert self.transport is not None
        self.address = client_address(self.peer, request.headers.get("x-forwarded-for"),
                                      trusted_proxies_of(self.config))
        # The 101 answer waits until the hub has admitted the connection and joined it to
        # its image (`admitted_now`): a client whose handshake has completed receives every
        # event committed from then on. Refusals complete the handshake to send their code,
        # and so does anything written before (a resume's replay).
        self._accept = accept_response(request.key)
        self.state = _ADMITTING
        self.hub.admit(self, request)
        if rest:
            self.data_received(rest)

    def _refuse(self, exc: HandshakeError) -> None:
        assert self.transport is not None
        self.state = ConnectionState.REFUSED
        self.transport.write(error_response(exc.status, exc.reason))
        self.transport.close()

    # messages ---------------------------------------------------------------------------
    def _on_message(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            if self.state is _ADMITTING:
                if len(self._early) >= MAX_EARLY_MESSAGES:
                    self.close(CloseCode.RATE_LIMITED, "Too many messages before admission.")
                    return
                self._early += (payload,)
            elif self.hub is not None and not self._flooding():
                self.hub.on_text(self, payload)
        elif opcode == OP_PING:
            if not self._flooding():
                self.write(encode_frame(OP_PONG, payload))
        elif opcode == OP_PONG:
            pass  # liveness is tracked by `last_received`
        elif opcode == OP_CLOSE:
            try:
                code, _reason = parse_close(payload)
            except ProtocolError as exc:
                self.close(exc.close_code, exc.reason)
                return
            self._on_peer_close(code)
        elif opcode == OP_BINARY:
            self.close(CloseCode.UNSUPPORTED_DATA, "This endpoint speaks JSON text frames.")

    def _flooding(self) -> bool:
        """Counts one message (text after admission, or ping) against the connection's
        message rate; past it, closes the connection with 4429 and returns True."""
        hub = self.hub
        if hub is None:
            return False
        # `last_received` was just taken for this read: every message in it shares that time.
        tat, wait = gcra(self._messages_tat_us, int(self.last_received * MICROS),
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
        self._send_accept()
        early, self._early = list(self._early), ()
        return early

    def _send_accept(self) -> None:
        accept, self._accept = self._accept, b""
        if accept and self.transport is not None:
            self.transport.write(accept)

    def _on_peer_close(self, code: int) -> None:
        if not self.closing:
            # Echo the code (RFC 6455 §5.5.1), then let the peer close the TCP connection.
            reply = code if 1000 <= code < 5000 and code not in (1005, 1006, 1015) else 1000
            self.close(reply, "")
        elif self.transport is not None:
            self.transport.close()

    # sending ----------------------------------------------------------------------------
    def write(self, frame: bytes) -> bool:
        """Queue a frame; False when the connection is closing or just overflowed."""
        transport = self.transport
        if self.state is not _OPEN or transport is None:  # the fan-out's hot path: one test
            if self.state is not _ADMITTING or transport is None:
                return False
            self._send_accept()  # before the first frame (a resume's replay, a pong)
        transport.write(frame)
        return not self.overflowed()

    @property
    def direct_transport(self) -> asyncio.Transport | None:
        """Where the fan-out may write frames itself (live/fanout_plan.py)."""
        return self.transport if self.state is _OPEN and self.batch is None else None

    def overflowed(self) -> bool:
        """After a write: past the send buffer's bound, close as a slow consumer (True)."""
        if self.transport is None or self.hub is None or (
                self.transport.get_write_buffer_size() <= self._max_send_buffer):
            return False
        self.hub.stats["slow_consumer_disconnects"] += 1
        self.close(CloseCode.SLOW_CONSUMER, "Too far behind; reconnect and resume.")
        return True

    def close(self, code: int, reason: str) -> None:
        if self.closing or self.transport is None:
            return
        self.state = ConnectionState.CLOSING
        transport = self.transport
        if self.hub is not None:
            self.hub.drop(self)
        if not transport.is_closing():
            self._send_accept()
            transport.write(close_frame(code, reason))
            asyncio.get_running_loop().call_later(CLOSE_GRACE_SECS, _abort_if_open, transport)
            # Closing flushes what is buffered; a peer that reads nothing is aborted above.
            transport.close()


def _abort_if_open(transport: asyncio.Transport) -> None:
    # A no-op when the transport has flushed and closed in the meantime.
    transport.abort()
