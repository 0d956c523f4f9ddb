"""Errors a use case can raise; each one knows its HTTP status and stable code.

The HTTP layer turns them into `{"status":"failed","reason":…,"code":…}`; the WebSocket
layer into close codes. Keeping status and code here means every transport agrees.
"""

from __future__ import annotations


class ImageChatError(Exception):
    """Base class: a failure a client caused or can act on (never a bug)."""

    status = 400
    code = "bad-request"

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if code is not None:
            self.code = code


class BadInput(ImageChatError):
    status = 400
    code = "bad-input"


class NotAuthenticated(ImageChatError):
    status = 401
    code = "not-authenticated"


class Forbidden(ImageChatError):
    status = 403
    code = "forbidden"


class NotFound(ImageChatError):
    status = 404
    code = "not-found"


class Conflict(ImageChatError):
    status = 409
    code = "conflict"


class TooLarge(ImageChatError):
    status = 413
    code = "too-large"


class UnsupportedMedia(ImageChatError):
    status = 415
    code = "unsupported-media-type"


class Unprocessable(ImageChatError):
    """Well-formed, but not something the server can work with (an undecodable image)."""

    status = 422
    code = "unprocessable"


class RateLimited(ImageChatError):
    status = 429
    code = "rate-limited"

    def __init__(self, reason: str, retry_after_secs: int, code: str | None = None) -> None:
        super().__init__(reason, code)
        self.retry_after_secs = retry_after_secs


class Unavailable(ImageChatError):
    status = 503
    code = "unavailable"


class BadGateway(ImageChatError):
    """Another server (an image host) failed to answer usefully."""

    status = 502
    code = "bad-gateway"


class GatewayTimeout(ImageChatError):
    status = 504
    code = "gateway-timeout"
