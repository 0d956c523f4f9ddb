"""The protocol's own failures, beside the project's (domain/errors.py): each knows its
status and code, so the HTTP layer answers them like every other error."""

from __future__ import annotations

from imagechat.domain.errors import ImageChatError


class NotAcceptable(ImageChatError):
    """None of the media types the client accepts is one the server writes."""

    status = 406
    code = "not-acceptable"


class PreconditionFailed(ImageChatError):
    """`If-Match` names another state than the annotation's: someone changed it since."""

    status = 412
    code = "etag-mismatch"


class PreconditionRequired(ImageChatError):
    """A PUT without `If-Match`: it could overwrite a change the client never saw."""

    status = 428
    code = "if-match-required"
