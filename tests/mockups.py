"""Generated design mockups in pairs (version 1, version 2) with the truth about every anchor,
for the carry-over tests and benchmark (bench/carry_over.py).

Version 1 is a page laid out in a grid: a header, cards and buttons, each element in its own
colour with text and small shapes (what real mockups have for features). Version 2 is the
same page with some elements edited (new colour and content) or removed, new elements added
in empty cells, and then shifted (2-15 %), scaled (0.8-1.25), rotated (0-5 degrees) and
cropped. Anchors sit inside elements, as points or regions; their place on version 2 is known
exactly from the transform.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from imagechat.imaging.carry import NEIGHBOURHOOD, Anchor, Carried

BACKGROUND = (246, 246, 244)
WORDS = ("Sign up", "Pricing", "About", "Features", "Docs", "Blog", "Contact", "Team",
         "Download", "Try it", "Reports", "Settings", "Billing", "Profile", "Inbox", "Help")

Box = tuple[int, int, int, int]
Colour = tuple[int, int, int]


@dataclass
class Element:
    box: Box
    fill: Colour
    seed: int


@dataclass(frozen=True)
class Truth:
    """What carry-over should find for one anchor."""

    anchor: Anchor
    # Its true place on version 2, percent (a region: its bounding box's corner).
    x: float
    y: float
    # "same", "changed" (its element was edited) or "lost" (its area is gone).
    expected: str
    # Near the edge of version 2, where `lost` and the other answers are both right.
    edge: bool


@dataclass
class Pair:
    old: bytes
    new: bytes
    new_size: tuple[int, int]
    truths: list[Truth] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)


def _colour(rng: random.Random, far_from: Colour | None = None) -> Colour:
    while True:
        colour = (rng.randrange(30, 226), rng.randrange(30, 226), rng.randrange(30, 226))
        if far_from is None or max(abs(a - b) for a, b in zip(colour, far_from,
                                                               strict=True)) > 90:
            return colour


def _draw_element(draw: ImageDraw.ImageDraw, e: Element, scale: float) -> None:
    rng = random.Random(e.seed)
    x0, y0, x1, y1 = e.box
    draw.rounded_rectangle(e.box, radius=max(2, int(6 * scale)), fill=e.fill,
                           outline=tuple(max(0, c - 60) for c in e.fill), width=2)
    ink = (255, 255, 255) if sum(e.fill) < 380 else (20, 20, 30)
    font = ImageFont.load_default(size=max(9, int(15 * scale)))
    w, h = x1 - x0, y1 - y0
    for _ in range(max(2, (w * h) // int(3500 * scale * scale))):
        kind = rng.random()
        px, py = x0 + rng.randrange(4, max(5, w - 30)), y0 + rng.randrange(4, max(5, h - 16))
        size = rng.randrange(5, 14) * scale
        if kind < 0.45:
            draw.text((px, py), rng.choice(WORDS), fill=ink, font=font)
        elif kind < 0.7:
            draw.ellipse((px, py, px + size, py + size), fill=_colour(rng))
        elif kind < 0.85:
            draw.polygon([(px, py + size), (px + size / 2, py), (px + size, py + size)],
                         fill=_colour(rng))
        else:
            draw.rectangle((px, py, px + size * 3, py + size / 3), fill=ink)


def _layout(rng: random.Random, width: int, height: int) -> list[Box]:
    """Cells of a grid: a header row, then rows of cards, with gaps between them."""
    gap = max(6, width // 60)
    boxes: list[Box] = []
    y = gap
    header = height // 9
    boxes.append((gap, y, width - gap, y + header))
    y += header + gap
    while y < height - gap - height // 10:
        row = min(rng.randrange(height // 8, height // 5), height - gap - y)
        columns = rng.randrange(2, 6)
        # Widths in twentieths of the page, each at least three.
        widths = [3] * columns
        for _ in range(20 - 3 * columns):
            widths[rng.randrange(columns)] += 1
        left_units = 0
        for units in widths:
            left = gap + (width - 2 * gap) * left_units // 20
            right = gap + (width - 2 * gap) * (left_units + units) // 20 - gap
            boxes.append((left, y, right, y + row))
            left_units += units
        y += row + gap
    return boxes


def render(width: int, height: int, elements: list[Element]) -> Image.Image:
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    scale = width / 640
    for e in elements:
        _draw_element(draw, e, scale)
    return image


def _affine(width: int, height: int, s: float, degrees: float, shift: tuple[float, float],
            crop: tuple[int, int, int, int]) -> tuple[list[float], tuple[int, int]]:
    """Version 1 pixels -> version 2 pixels (a 2x3 matrix, row-major), and v2's size."""
    theta = math.radians(degrees)
    a, b = s * math.cos(theta), -s * math.sin(theta)
    c, d = s * math.sin(theta), s * math.cos(theta)
    cx, cy = width / 2, height / 2
    left, top, right, bottom = crop
    size = (round(width * s) - left - right, round(height * s) - top - bottom)
    tx = width * s / 2 + shift[0] - left - (a * cx + b * cy)
    ty = height * s / 2 + shift[1] - top - (c * cx + d * cy)
    return [a, b, tx, c, d, ty], size


def _apply(m: list[float], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]


def _inverse(m: list[float]) -> list[float]:
    a, b, tx, c, d, ty = m
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    return [ia, ib, -(ia * tx + ib * ty), ic, id_, -(ic * tx + id_ * ty)]


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def make_pair(seed: int, *, width: int = 640, height: int = 480, anchors: int = 24,
              edits: int = 3, added: int = 2, region_share: float = 0.3) -> Pair:
    rng = random.Random(seed)
    cells = _layout(rng, width, height)
    rng.shuffle(cells)
    empty = cells[:added]
    elements = [Element(box, _colour(rng), rng.randrange(1 << 30)) for box in cells[added:]]
    old = render(width, height, elements)

    edited = set(rng.sample(range(len(elements)), min(edits, len(elements))))
    changed = []
    for i, e in enumerate(elements):
        if i in edited and rng.random() < 0.25:
            continue  # removed: the cell is background now
        if i in edited:
            changed.append(Element(e.box, _colour(rng, e.fill), rng.randrange(1 << 30)))
        else:
            changed.append(e)
    changed += [Element(box, _colour(rng), rng.randrange(1 << 30)) for box in empty]
    s = rng.uniform(0.8, 1.25)
    degrees = rng.uniform(0, 5) * rng.choice((-1, 1))
    shift = (rng.uniform(0.02, 0.15) * width * rng.choice((-1, 1)),
             rng.uniform(0.02, 0.15) * height * rng.choice((-1, 1)))
    crop = tuple(int(rng.uniform(0, 0.12) * (width if i % 2 == 0 else height) * s)
                 for i in range(4))
    matrix, size = _affine(width, height, s, degrees, shift, crop)  # type: ignore[arg-type]
    new = render(width, height, changed).transform(
        size, Image.Transform.AFFINE, data=tuple(_inverse(matrix)),
        resample=Image.Resampling.BICUBIC, fillcolor=BACKGROUND)

    pair = Pair(old=_png(old), new=_png(new), new_size=size,
                params={"scale": s, "degrees": degrees, "shift_x": shift[0] / width,
                        "shift_y": shift[1] / height})
    margin = NEIGHBOURHOOD / 100 * max(width, height) + 3
    for n in range(anchors):
        index = rng.randrange(len(elements))
        x0, y0, x1, y1 = elements[index].box
        if x1 - x0 < 2 * margin + 2 or y1 - y0 < 2 * margin + 2:
            continue
        if rng.random() < region_share:
            rw = rng.uniform(0.3, 0.8) * (x1 - x0)
            rh = rng.uniform(0.3, 0.8) * (y1 - y0)
            px, py = rng.uniform(x0 + 2, x1 - 2 - rw), rng.uniform(y0 + 2, y1 - 2 - rh)
            anchor = Anchor(f"p{n}", px / width * 100, py / height * 100, rw / width * 100,
                      rh / height * 100)
            corners = [_apply(matrix, cx, cy) for cx, cy in
                       ((px, py), (px + rw, py), (px + rw, py + rh), (px, py + rh))]
            tx, ty = min(c[0] for c in corners), min(c[1] for c in corners)
            bx, by = max(c[0] for c in corners), max(c[1] for c in corners)
            inside = (max(0.0, min(bx, size[0]) - max(tx, 0))
                      * max(0.0, min(by, size[1]) - max(ty, 0))) / ((bx - tx) * (by - ty))
            gone, edge = inside < 0.3, 0.3 <= inside < 0.7
            tx, ty = max(0.0, tx), max(0.0, ty)
        else:
            px, py = rng.uniform(x0 + margin, x1 - margin), rng.uniform(y0 + margin, y1 - margin)
            anchor = Anchor(f"p{n}", px / width * 100, py / height * 100)
            tx, ty = _apply(matrix, px, py)
            # Within a neighbourhood of the edge, inside or out, either answer is right.
            reach = margin * s
            gone = not (0 <= tx <= size[0] and 0 <= ty <= size[1])
            edge = (-reach <= tx <= size[0] + reach and -reach <= ty <= size[1] + reach
                    and not (reach <= tx <= size[0] - reach and reach <= ty <= size[1] - reach))
        expected = "lost" if gone else "changed" if index in edited else "same"
        pair.truths.append(Truth(anchor, tx / size[0] * 100, ty / size[1] * 100, expected, edge))
    return pair


@dataclass
class Score:
    """How carry-over did on some pairs, against the truth."""

    same_errors: list[float] = field(default_factory=list)  # percent of the width
    edited: int = 0
    edited_flagged: int = 0
    unedited: int = 0
    unedited_flagged: int = 0
    lost_wrongly: int = 0
    gone: int = 0
    gone_lost: int = 0
    anchors: int = 0

    def add(self, pair: Pair, carried: list[Carried]) -> None:
        by_key = {c.key: c for c in carried}
        aspect = pair.new_size[1] / pair.new_size[0]
        for truth in pair.truths:
            got = by_key[truth.anchor.key]
            self.anchors += 1
            if truth.expected == "lost":
                self.gone += 1
                self.gone_lost += got.carry == "lost"
                continue
            if got.carry == "lost" and not truth.edge:
                self.lost_wrongly += 1
            if truth.edge:
                continue
            if truth.expected == "changed":
                self.edited += 1
                self.edited_flagged += got.carry == "changed"
                continue
            self.unedited += 1
            self.unedited_flagged += got.carry == "changed"
            if got.carry == "same":
                self.same_errors.append(math.hypot(got.x - truth.x, (got.y - truth.y) * aspect))

    def figures(self) -> dict[str, float]:
        errors = sorted(self.same_errors)

        def pct(p: float) -> float:
            return errors[min(len(errors) - 1, int(p / 100 * len(errors)))] if errors else 0.0

        return {
            "anchors": self.anchors,
            "same_anchors": len(errors),
            "median_error_pct": round(pct(50), 3),
            "p95_error_pct": round(pct(95), 3),
            "edited_flagged_share": round(self.edited_flagged / max(1, self.edited), 3),
            "unedited_flagged_share": round(self.unedited_flagged / max(1, self.unedited), 3),
            "lost_wrongly": self.lost_wrongly,
            "gone_found_lost_share": round(self.gone_lost / max(1, self.gone), 3),
            "edited_anchors": self.edited,
            "gone_anchors": self.gone,
        }
