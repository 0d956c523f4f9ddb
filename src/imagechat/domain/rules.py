"""Validation of what visitors send. Every rule raises a domain error a person can read."""

from __future__ import annotations

import math
import re
from typing import Any

from imagechat.domain import limits
from imagechat.domain.errors import BadInput, TooLarge

_ID_RE = re.compile(r"[A-Za-z0-9_.:@\-]+")
# The same rule as a JSON Schema pattern (for the OpenAPI document).
ID_PATTERN = f"^{_ID_RE.pattern}$"
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
_HOST_RE = re.compile(r"[^/?;]*")
# C0 controls and DEL: never part of an address, and a urlId is part of broker keys.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def require_text(value: Any, field: str, max_chars: int, *, allow_empty: bool = False) -> str:
    if value is None:
        if allow_empty:
            return ""
        raise BadInput(f"`{field}` is required.", "missing-field")
    if not isinstance(value, str):
        raise BadInput(f"`{field}` must be a string.", "invalid-field")
    if "\x00" in value:
        raise BadInput(f"`{field}` must not contain NUL characters.", "invalid-field")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can carry lone surrogate escapes (\ud800) that are not text.
        raise BadInput(f"`{field}` is not valid Unicode text.", "invalid-field") from None
    if not allow_empty and not value.strip():
        raise BadInput(f"`{field}` must not be empty.", "missing-field")
    if len(value) > max_chars:
        raise TooLarge(
            f"`{field}` is {len(value)} characters long; the limit is {max_chars}.",
            f"{field.lower()}-too-long",
        )
    return value


def optional_text(value: Any, field: str, max_chars: int) -> str | None:
    if value is None or value == "":
        return None
    return require_text(value, field, max_chars)


def require_id(value: Any, field: str) -> str:
    text = require_text(value, field, limits.MAX_ID_CHARS)
    # fullmatch: with match(), `$` would also accept a trailing newline ("abc\n").
    if not _ID_RE.fullmatch(text):
        raise BadInput(
            f"`{field}` may contain only letters, digits and _ . : @ -", "invalid-id"
        )
    return text


def optional_id(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    return require_id(value, field)


def require_percentage(value: Any, field: str) -> float:
    """A conversation's coordinate: a finite number from 0 to 100 (percent of the image box)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"`{field}` must be a number from 0 to 100.", "invalid-coordinate")
    try:
        number = float(value)
    except OverflowError:
        raise BadInput(f"`{field}` must be a number from 0 to 100.", "invalid-coordinate") from None
    if not math.isfinite(number) or number < 0 or number > 100:
        raise BadInput(f"`{field}` must be a number from 0 to 100.", "invalid-coordinate")
    return number


def clean_url_id(raw: Any, field: str = "urlId") -> str:
    """Normalise a urlId so that the same image is one channel however it is spelled.

    A scheme, a `#fragment`, a trailing slash and the host's letter case do not change
    which page is meant; query strings do (they often select the image) and are kept.
    """
    text = require_text(raw, field, limits.MAX_URL_ID_CHARS).strip()
    if _CONTROL_RE.search(text):
        raise BadInput(f"`{field}` must not contain control characters.", "invalid-url-id")
    text = text.split("#", 1)[0]
    match = _SCHEME_RE.match(text)
    if match:
        rest = text[match.end() :]
        host_end = _HOST_RE.match(rest)
        split = host_end.end() if host_end else 0
        text = rest[:split].lower() + rest[split:]
    if len(text) > 1 and text.endswith("/"):
        text = text.rstrip("/") or "/"
    if not text:
        raise BadInput(f"`{field}` must not be empty.", "missing-field")
    # Bytes, not characters, bound what an index entry may hold.
    if len(text.encode()) > limits.MAX_URL_ID_BYTES:
        raise TooLarge(f"`{field}` is too long.", "urlid-too-long")
    return text


def require_vote_direction(value: Any) -> int:
    if value == "up":
        return 1
    if value == "down":
        return -1
    raise BadInput('`voteDir` must be "up" or "down".', "invalid-vote")


def page_number(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput("`page` must be a whole number.", "invalid-page") from None
    if number < 0 or number > 1_000_000:
        raise BadInput("`page` must be from 0 to 1000000.", "invalid-page")
    return number


# Epoch milliseconds from 1970 to the year 5138: every date a comment can have.
MAX_EPOCH_MS = 10**14


def epoch_ms(value: Any, field: str) -> int:
    """A time in epoch milliseconds: a whole, non-negative JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"`{field}` must be a time in epoch milliseconds.", "invalid-time")
    if not math.isfinite(value) or value < 0 or value > MAX_EPOCH_MS:
        raise BadInput(f"`{field}` must be a time in epoch milliseconds.", "invalid-time")
    return int(value)
