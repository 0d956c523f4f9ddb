"""Where a conversation sits on an image: a point, or a rectangle (a region).

Both are in percent of the image's width and height. A region's top-left corner is also the
conversation's point (`x`, `y`), so clients that know only points draw its marker in the
right place. docs/data-model.md, "Regions".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from imagechat.domain import rules
from imagechat.domain.errors import BadInput

# The smallest side of a region, percent: a smaller rectangle is a slip of the pointer.
MIN_REGION_SIDE = 0.5
SHAPES = ("rect",)


@dataclass(frozen=True, slots=True)
class Region:
    x: float
    y: float
    w: float
    h: float

    def as_json(self) -> dict[str, Any]:
        return {"shape": "rect", "x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass(frozen=True, slots=True)
class Place:
    """A conversation's position on one version of its image."""

    x: float
    y: float
    # Its size when it is a region (its corner is x, y).
    w: float | None = None
    h: float | None = None

    @property
    def region(self) -> Region | None:
        if self.w is None or self.h is None:
            return None
        return Region(self.x, self.y, self.w, self.h)


def _side(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(float(value)) or not 0 <= value <= 100:
        raise BadInput(f"`region.{field}` must be a number from 0 to 100.", "invalid-region")
    return float(value)


def require_region(value: Any) -> Region:
    """`{"shape": "rect", "x", "y", "w", "h"}`: inside 0-100, each side at least 0.5, and
    not past the right or bottom edge."""
    if not isinstance(value, dict):
        raise BadInput('`region` must be an object {"shape": "rect", "x", "y", "w", "h"}.',
                       "invalid-region")
    if value.get("shape", "rect") not in SHAPES:
        raise BadInput('`region.shape` must be "rect".', "invalid-region")
    x, y, w, h = (_side(value.get(k), k) for k in ("x", "y", "w", "h"))
    if w < MIN_REGION_SIDE or h < MIN_REGION_SIDE:
        raise BadInput(f"A region's `w` and `h` must be at least {MIN_REGION_SIDE:g} (percent).",
                       "region-too-small")
    if x + w > 100 + 1e-9 or y + h > 100 + 1e-9:
        raise BadInput("A region must fit on the image: `x + w` and `y + h` at most 100.",
                       "region-out-of-bounds")
    return Region(x, y, w, h)


def require_place(x: Any, y: Any, region: Any) -> Place:
    """The point and the optional region of a create or move. With a region, `x` and `y`
    may be left out; when sent, they must be its corner."""
    if region is None:
        return Place(rules.require_percentage(x, "x"), rules.require_percentage(y, "y"))
    rect = require_region(region)
    for name, sent, corner in (("x", x, rect.x), ("y", y, rect.y)):
        if sent is not None and rules.require_percentage(sent, name) != corner:
            raise BadInput(f"`{name}` must be the region's `{name}` (its top-left corner), "
                           "or be left out.", "region-mismatch")
    return Place(rect.x, rect.y, rect.w, rect.h)
