"""What a client sends on a live connection, parsed without I/O (docs/protocol.md,
"Messages"): bytes in, a `Join`, a `Leave` or nothing (a keep-alive) out.

A message the server cannot take raises `ImageChatError`, whose reason the connection is
closed with (4400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from imagechat.domain.errors import ImageChatError


@dataclass(frozen=True, slots=True)
class Join:
    """`join`, or `resync` (a join again, from `since`)."""

    url_id: Any  # as sent: checked when the channel is looked up
    since: int | None
    epoch: str | None


@dataclass(frozen=True, slots=True)
class Leave:
    url_id: Any


def parse_message(payload: bytes) -> Join | Leave | None:
    """The operation in one text message; None for the text `ping`."""
    if payload.strip() == b"ping":
        return None  # the reference clients' keep-alive; liveness is already noted
    try:
        message = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise ImageChatError("Messages are JSON objects or the text `ping`.") from None
    op = message.get("op") if isinstance(message, dict) else None
    url_id = message.get("urlId") if isinstance(message, dict) else None
    if op == "join" or op == "resync":
        since, epoch = parse_since(message)
        return Join(url_id, since, epoch)
    if op == "leave":
        return Leave(url_id)
    raise ImageChatError("Unknown operation; use join, leave or resync.")


def parse_since(params: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """`since` and `epoch` of a handshake's query or a message: (None, None) when absent."""
    raw = params.get("since")
    epoch = params.get("epoch")
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, (bool, float)):
        raise ImageChatError("`since` must be a whole number.")
    try:
        since = int(raw)
    except (TypeError, ValueError):
        raise ImageChatError("`since` must be a whole number.") from None
    if since < 0:
        raise ImageChatError("`since` must not be negative.")
    return since, epoch if isinstance(epoch, str) and epoch else None
