"""The urlId of a conversation's thread: `{urlId}:{src}:{x}:{y}`, as the reference widget
builds it (e.g. `my-page:/images/photo.jpg:25.5:30.2`).

The server derives it when a client does not send one, and the importer reads it back to
recognise which threads of a dump are conversations on an image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# What may start an image address after the `:` that ends the image's urlId: a path, a URL
# with a scheme, a relative path, or a data URL.
_SRC_STARTS = ("/", "./", "../", "http://", "https://", "data:", "blob:")


@dataclass(frozen=True, slots=True)
class ThreadPoint:
    """What a thread urlId of the reference's form says about its conversation."""

    url_id: str
    src: str
    x: float
    y: float


def number_text(value: float) -> str:
    """A coordinate as JavaScript prints it (`25.5`, `30`), so ids derived here match the
    ones the reference widget derives from the same click."""
    if value == int(value):
        return str(int(value))
    return repr(value)


def window_url_id(url_id: str, src: str | None, x: float, y: float) -> str:
    # A fragment would be cut off when the urlId is cleaned, taking the coordinates with it.
    image = (src or "").split("#", 1)[0]
    return f"{url_id}:{image}:{number_text(x)}:{number_text(y)}"


def parse_window_url_id(text: str) -> ThreadPoint | None:
    """The image urlId, src and point of a thread urlId of the reference's form, or None.

    Both the image's urlId and its src may contain colons (`host:8000/page`,
    `https://cdn/x.png`); the src is taken to start at the first colon followed by
    something that can start an image address, and not by `//` (that colon ends a scheme).
    """
    head, sep, y_text = text.rpartition(":")
    head, sep2, x_text = head.rpartition(":")
    if not sep or not sep2:
        return None
    x, y = _coordinate(x_text), _coordinate(y_text)
    if x is None or y is None:
        return None
    start = 0
    while (colon := head.find(":", start)) != -1:
        rest = head[colon + 1 :]
        if colon > 0 and rest.startswith(_SRC_STARTS) and not rest.startswith("//"):
            return ThreadPoint(url_id=head[:colon], src=rest, x=x, y=y)
        start = colon + 1
    if head.count(":") == 1:  # `page:images/a.png`: a relative src, and only one way to split
        url_id, _, src = head.partition(":")
        if url_id and src:
            return ThreadPoint(url_id=url_id, src=src, x=x, y=y)
    return None


def _coordinate(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or value > 100:
        return None
    return value
