"""Carry-over: every anchor of one version of an image, placed on the next and classified.

1. Align the two versions (imaging/align.py). No alignment: every anchor is `lost`, where it was.
2. Map each anchor (a point, or a region's four corners) onto the new version.
3. Compare its neighbourhood (a point's surroundings, or the region itself) between the old
   image and the new one warped back onto it:
   - `lost` when the area is gone: the anchor maps outside the new image, or most of its
     neighbourhood does (a crop). It keeps its old place, flagged.
   - `changed` when enough of the neighbourhood differs: the area was edited.
   - `same` otherwise.
An anchor that was `lost` stays `lost` (and where it was) until a person moves it: its place is
a guess, and carrying a guess on would only make it look trustworthy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from imagechat.domain.regions import MIN_REGION_SIDE
from imagechat.imaging.align import Alignment, apply, estimate
from imagechat.imaging.decode import Pixels

# A point's neighbourhood: a square of this half-side, in percent of the image's long side
# (26 pixels at the work size): a button or a word, not the whole card around it.
NEIGHBOURHOOD = 2.5
# Both images are blurred this much (sigma, pixels) before comparing, so that resampling
# (scaling, rotation, JPEG) does not look like an edit.
BLUR_SIGMA = 1.5
# A pixel differs when a colour channel moved by more than this (of 255) after the blur.
DIFF_LEVEL = 40
# The neighbourhood changed when this share of it differs, and at least this many pixels
# (after removing specks thinner than 3 pixels: edges the resampling moved).
CHANGED_SHARE = 0.02
CHANGED_MIN_PX = 40
# Less of the neighbourhood than this still on the new image: the area is gone.
MIN_VISIBLE = 0.5
# A point this far outside the new image (percent) is gone; nearer counts as on the edge.
EDGE_TOLERANCE = 0.5

SAME, CHANGED, LOST = "same", "changed", "lost"


@dataclass(frozen=True, slots=True)
class Anchor:
    """An anchor on the old version, in percent of its size."""

    key: str
    x: float
    y: float
    w: float | None = None
    h: float | None = None
    # Lost on the old version already.
    lost: bool = False


@dataclass(frozen=True, slots=True)
class Carried:
    """An anchor on the new version, in percent of its size."""

    key: str
    x: float
    y: float
    w: float | None
    h: float | None
    carry: str


@dataclass(frozen=True, slots=True)
class CarryResult:
    anchors: list[Carried]
    alignment: Alignment | None


def carry_over(old: Pixels, new: Pixels, anchors: Sequence[Anchor],
               alignment: Alignment | None = None) -> CarryResult:
    """CPU work (tens to hundreds of milliseconds): run it off the event loop. An
    `alignment` of the same two images found before saves finding it again."""
    if alignment is None and anchors:
        alignment = estimate(old, new)
    if alignment is None:
        return CarryResult([_stay(p) for p in anchors], alignment)
    compare = _Comparison(old, new, alignment)
    return CarryResult([_stay(p) if p.lost else compare.carry(p) for p in anchors], alignment)


def _stay(anchor: Anchor) -> Carried:
    return Carried(anchor.key, anchor.x, anchor.y, anchor.w, anchor.h, LOST)


class _Comparison:
    def __init__(self, old: Pixels, new: Pixels, alignment: Alignment) -> None:
        self.old_h, self.old_w = old.shape[:2]
        self.new_h, self.new_w = new.shape[:2]
        self.matrix = alignment.matrix
        back = np.linalg.inv(alignment.matrix)
        size = (self.old_w, self.old_h)
        warped = cv2.warpPerspective(new, back, size, flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
        visible = cv2.warpPerspective(np.full(new.shape[:2], 255, np.uint8), back, size,
                                      flags=cv2.INTER_NEAREST, borderValue=0)
        # Pixels at the new image's border are half made up by the interpolation.
        self.visible = cv2.erode(visible, np.ones((5, 5), np.uint8)) > 0
        blur_old = cv2.GaussianBlur(old, (0, 0), BLUR_SIGMA).astype(np.int16)
        blur_new = cv2.GaussianBlur(warped, (0, 0), BLUR_SIGMA).astype(np.int16)
        differs = (np.abs(blur_old - blur_new).max(axis=2) > DIFF_LEVEL).astype(np.uint8)
        # An opening removes lines thinner than 3 pixels: edges that moved by resampling.
        self.differs = cv2.morphologyEx(differs, cv2.MORPH_OPEN,
                                        np.ones((3, 3), np.uint8)) > 0
        self.radius = max(4, round(NEIGHBOURHOOD / 100 * max(self.old_w, self.old_h)))

    def carry(self, anchor: Anchor) -> Carried:
        if anchor.w is not None and anchor.h is not None:
            return self._region(anchor, anchor.w, anchor.h)
        px = np.array([[anchor.x / 100 * self.old_w, anchor.y / 100 * self.old_h]])
        mx, my = apply(self.matrix, px)[0]
        x, y = mx / self.new_w * 100, my / self.new_h * 100
        if not (-EDGE_TOLERANCE <= x <= 100 + EDGE_TOLERANCE
                and -EDGE_TOLERANCE <= y <= 100 + EDGE_TOLERANCE):
            return _stay(anchor)
        r = self.radius
        box = (int(px[0, 0]) - r, int(px[0, 1]) - r, int(px[0, 0]) + r + 1,
               int(px[0, 1]) + r + 1)
        state = self._state(box)
        if state == LOST:
            return _stay(anchor)
        return Carried(anchor.key, _clamp(x), _clamp(y), None, None, state)

    def _region(self, anchor: Anchor, w: float, h: float) -> Carried:
        left, top = anchor.x / 100 * self.old_w, anchor.y / 100 * self.old_h
        right, bottom = (anchor.x + w) / 100 * self.old_w, (anchor.y + h) / 100 * self.old_h
        corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
        mapped = apply(self.matrix, corners)
        x0 = _clamp(mapped[:, 0].min() / self.new_w * 100)
        y0 = _clamp(mapped[:, 1].min() / self.new_h * 100)
        x1 = _clamp(mapped[:, 0].max() / self.new_w * 100)
        y1 = _clamp(mapped[:, 1].max() / self.new_h * 100)
        if x1 - x0 < MIN_REGION_SIDE or y1 - y0 < MIN_REGION_SIDE:
            return _stay(anchor)
        state = self._state((int(left), int(top), int(np.ceil(right)), int(np.ceil(bottom))))
        if state == LOST:
            return _stay(anchor)
        return Carried(anchor.key, x0, y0, x1 - x0, y1 - y0, state)

    def _state(self, box: tuple[int, int, int, int]) -> str:
        """`same`, `changed` or `lost` for a box of the old image (pixels)."""
        x0, y0 = max(0, box[0]), max(0, box[1])
        x1, y1 = min(self.old_w, box[2]), min(self.old_h, box[3])
        area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
        if x1 <= x0 or y1 <= y0:
            return LOST
        visible: NDArray[np.bool_] = self.visible[y0:y1, x0:x1]
        shown = int(visible.sum())
        if shown < MIN_VISIBLE * area:
            return LOST
        changed = int((self.differs[y0:y1, x0:x1] & visible).sum())
        if changed >= max(CHANGED_MIN_PX, CHANGED_SHARE * shown):
            return CHANGED
        return SAME


def _clamp(value: float) -> float:
    return float(min(100.0, max(0.0, value)))
