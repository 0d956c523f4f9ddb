"""Webhooks: the event types a site can subscribe to, and how each POST is signed.

The signature is Stripe's scheme: `ImageChat-Signature: t=<unix s>,v1=<hex>`, where the hex is
HMAC-SHA256 keyed with the endpoint's secret over `"<t>.<raw body>"`. Signing the time with
the body lets a receiver refuse old requests replayed by someone who captured one.
"""

from __future__ import annotations

import hashlib
import hmac

# Every event type, in the order the documentation lists them.
EVENT_TYPES = (
    "image-chat.created",
    "image-chat.updated",
    "image-chat.resolved",
    "image-chat.deleted",
    "comment.created",
    "comment.updated",
    "comment.deleted",
    "mention",
    "reaction",
)
# What `webhook test` sends: to one endpoint, whatever types it subscribed to.
TEST_EVENT = "test"

DELIVERY_HEADER = "ImageChat-Delivery"
EVENT_HEADER = "ImageChat-Event"
SIGNATURE_HEADER = "ImageChat-Signature"
# How old a signature a receiver should still accept (what the README's receiver does).
SIGNATURE_TOLERANCE_SECS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `ImageChat-Signature` header's value for one POST."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_matches(secret: str, header: str, body: bytes, now_secs: int, *,
                      tolerance_secs: int = SIGNATURE_TOLERANCE_SECS) -> bool:
    """What a receiver checks: the signature is ours for this body, and recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now_secs - timestamp) > tolerance_secs:
        return False
    expected = signature(secret, timestamp, body).rpartition("v1=")[2]
    return hmac.compare_digest(expected, fields.get("v1", ""))
