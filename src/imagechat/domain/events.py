"""Live event types (docs/protocol.md) and the rule for which of them are logged.

Every event that changes an image's state is written to the channel's event log with the
next `seq` in the same transaction as the change. Presence (`p-u`) describes who is
watching, not the image, and is never logged.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    NEW_IMAGE_CHAT = "new-image-chat"
    IMAGE_CHAT_UPDATED = "image-chat-updated"
    DELETED_IMAGE_CHAT = "deleted-image-chat"
    NEW_COMMENT = "new-comment"
    UPDATED_COMMENT = "updated-comment"
    DELETED_COMMENT = "deleted-comment"
    NEW_VOTE = "new-vote"
    DELETED_VOTE = "deleted-vote"
    # A moderator made the image read-only (or writable again).
    IMAGE_LOCKED = "image-locked"
    # A new version of the image, with every conversation's place on it (carry-over).
    IMAGE_VERSION = "image-version"
    PRESENCE = "p-u"


LOGGED_EVENT_TYPES = frozenset(t for t in EventType if t is not EventType.PRESENCE)
