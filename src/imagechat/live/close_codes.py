"""Close codes the live endpoint uses; docs/protocol.md lists them for client authors."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down; reconnect (to another node)
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003  # binary frames: this protocol is JSON text
    INVALID_UTF8 = 1007
    TOO_BIG = 1009
    SERVER_ERROR = 1011
    SLOW_CONSUMER = 4001  # the send backlog passed its bound; reconnect and resume by seq
    BAD_MESSAGE = 4400  # a message that is not a known operation, or bad parameters
    UNAUTHENTICATED = 4401  # the SSO token did not verify
    ORIGIN_NOT_ALLOWED = 4403
    TENANT_NOT_FOUND = 4404
    HEARTBEAT_TIMEOUT = 4408  # nothing received for too long
    TOO_MANY_CHANNELS = 4413
    RATE_LIMITED = 4429
    UNAVAILABLE = 4503  # a backing service (database) is down; retry later
