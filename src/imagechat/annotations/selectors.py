"""Media Fragments selectors (`xywh=`, https://www.w3.org/TR/media-frags/#naming-space)
for points and regions.

ImageChat keeps places in percent of the image. A selector in `percent:` maps directly; a
`pixel:` one (the default unit) needs the image's natural size. A point is a zero-size
rectangle at it; a region's corner is its conversation's point (docs/data-model.md,
"Regions").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from imagechat.annotations.vocabulary import MEDIA_FRAGMENTS
from imagechat.domain.errors import BadInput
from imagechat.domain.regions import Place, require_place

_NUMBER = r"(\d+(?:\.\d+)?)"
_XYWH = re.compile(rf"^xywh=(?:(pixel|percent):)?{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$")


@dataclass(frozen=True, slots=True)
class ImageSize:
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Fragment:
    """A parsed `xywh=` value: its unit and rectangle, as written."""

    unit: str
    x: float
    y: float
    w: float
    h: float


def parse_xywh(value: Any) -> Fragment:
    if not isinstance(value, str):
        raise BadInput("A FragmentSelector's `value` must be a string like "
                       "`xywh=percent:10,20,30,15`.", "selector-unsupported")
    found = _XYWH.match(value.strip())
    if found is None:
        raise BadInput(f"Only spatial media fragments `xywh=[pixel:|percent:]x,y,w,h` are "
                       f"supported, not {value[:100]!r}.", "selector-unsupported")
    unit, *numbers = found.groups()
    x, y, w, h = (float(n) for n in numbers)
    return Fragment(unit or "pixel", x, y, w, h)


def to_place(fragment: Fragment, size: ImageSize | None) -> Place:
    """The point (zero-size) or region a fragment names, in percent of the image."""
    x, y, w, h = fragment.x, fragment.y, fragment.w, fragment.h
    if fragment.unit == "pixel":
        if size is None:
            raise BadInput("A `pixel:` selector needs the image's natural size, which the "
                           "server does not know yet: send `xywh=percent:` instead, or report "
                           "the image first.", "image-size-unknown")
        x, w = (v * 100 / size.width for v in (x, w))
        y, h = (v * 100 / size.height for v in (y, h))
    if w == 0 and h == 0:
        return require_place(x, y, None)
    if fragment.unit == "pixel":
        # A rectangle drawn to the very edge may pass it by a rounding error.
        w, h = min(w, max(0.0, 100 - x)), min(h, max(0.0, 100 - y))
    return require_place(None, None, {"shape": "rect", "x": x, "y": y, "w": w, "h": h})


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def fragment_selectors(place: Place, size: ImageSize | None) -> list[dict[str, Any]]:
    """The selectors of a place: in pixels first when the natural size is known (clients
    such as Annotorious read the first one and know only pixels), then in percent, which
    is what ImageChat keeps."""
    w = place.w if place.w is not None else 0.0
    h = place.h if place.h is not None else 0.0
    percent = {"type": "FragmentSelector", "conformsTo": MEDIA_FRAGMENTS,
               "value": f"xywh=percent:{_number(place.x)},{_number(place.y)},"
                        f"{_number(w)},{_number(h)}"}
    if size is None:
        return [percent]
    px = [round(place.x * size.width / 100), round(place.y * size.height / 100),
          round(w * size.width / 100), round(h * size.height / 100)]
    pixel = {"type": "FragmentSelector", "conformsTo": MEDIA_FRAGMENTS,
             "value": "xywh=pixel:" + ",".join(str(v) for v in px)}
    return [pixel, percent]
