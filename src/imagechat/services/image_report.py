"""What an export of an image holds (services/image_export.py), whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from imagechat.domain.models import Comment, Positioned


@dataclass(frozen=True, slots=True)
class ReportThread:
    # 1, 2, ... in the order the conversations were made: the label of its marker.
    number: int
    place: Positioned
    # Oldest first.
    comments: list[Comment]
    # Per comment id: emoji -> how many visitors put it.
    reactions: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class ReportImage:
    """The picture a PDF draws: PNG or JPEG bytes, with why it is not the fetched image
    (`note`), or only a note when there is no picture at all."""

    data: bytes | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ImageReport:
    tenant_id: str
    url_id: str
    # The version the places are on (None: the image has no versions).
    version: int | None
    # The address of that version's image, as the server fetches it.
    src: str | None
    threads: list[ReportThread]
    made_at_ms: int
    image: ReportImage | None = None


def in_reply_order(comments: list[Comment]) -> Iterator[tuple[int, Comment]]:
    """(depth, comment): each comment followed by its replies, oldest first at each level."""
    ids = {c.id for c in comments}
    children: dict[str | None, list[Comment]] = {}
    for c in comments:
        children.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)

    # A stack, not recursion: a reply chain may be longer than Python's recursion limit.
    stack = [(0, c) for c in reversed(children.get(None, []))]
    while stack:
        depth, comment = stack.pop()
        yield depth, comment
        stack.extend((depth + 1, r) for r in reversed(children.get(comment.id, [])))
