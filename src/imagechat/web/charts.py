"""Small SVG bar charts, drawn on the server (the dashboard ships no charting library).

A chart is plain SVG text meant to be inlined in an HTML page, so the page's CSS colours it
(light and dark mode alike; see web/dashboard/static/dashboard.css). Every bar is a group
carrying its exact value in `data-value` and its bucket in `data-start`, with a `<title>`
that browsers show as a tooltip and screen readers can reach; the whole chart is
`role="img"` with a text summary in `aria-label`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# The drawing's own coordinate system; the SVG scales to its container's width, text
# included. About 480 units keeps the 14-unit labels readable from a phone (about 10 px at
# 330 px wide) to a desktop card (about 15 px at 520 px).
WIDTH = 480
HEIGHT = 220
MARGIN_LEFT = 54
MARGIN_RIGHT = 20
MARGIN_TOP = 12
MARGIN_BOTTOM = 30
# At most this many labels under the x axis (more would overlap).
MAX_X_LABELS = 5
# Part of each bucket's width the bar fills; the rest separates neighbours.
BAR_FILL = 0.78


@dataclass(frozen=True, slots=True)
class Unit:
    """What the numbers count, for axis labels ("1.2k") and exact tooltips ("1,234 frames")."""

    singular: str
    plural: str
    is_bytes: bool = False

    def short(self, value: int) -> str:
        return compact_bytes(value) if self.is_bytes else compact(value)

    def exact(self, value: int) -> str:
        noun = self.singular if value == 1 else self.plural
        text = f"{value:,} {noun}"
        if self.is_bytes and value >= 1000:
            text += f" ({compact_bytes(value)})"
        return text


@dataclass(frozen=True, slots=True)
class Point:
    value: int
    # Under the axis, when there is room: "13:00", "3 May".
    label: str
    # The bucket in full, for the tooltip: "3 May 2024, 13:00-14:00 UTC".
    title: str
    # Machine-readable bucket start (ISO 8601), for `data-start`.
    key: str


# A value this close below a unit prints as 1 of it ("1M", not "1000k").
_ROUNDS_UP = 0.9995


def compact(value: int) -> str:
    """1234 -> "1.2k", 5_600_000 -> "5.6M"; small numbers as they are."""
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= size * _ROUNDS_UP:
            return _trim(value / size) + suffix
    return str(value)


def compact_bytes(value: int) -> str:
    """Decimal (SI) units, as network traffic is usually counted: 1500 -> "1.5 kB"."""
    for size, suffix in ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB")):
        if abs(value) >= size * _ROUNDS_UP:
            return f"{_trim(value / size)} {suffix}"
    return f"{value} B"


def _trim(number: float) -> str:
    text = f"{number:.1f}" if number < 100 else f"{number:.0f}"
    return text.removesuffix(".0")


def nice_step(largest: int, ticks: int = 4) -> int:
    """A whole step of 1, 2 or 5 times a power of ten giving about `ticks` intervals."""
    if largest <= ticks:
        return 1
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def axis_top(largest: int) -> tuple[int, int]:
    """(top of the y axis, tick step): the top is a multiple of the step, at least 1."""
    step = nice_step(largest)
    top = max(step, math.ceil(largest / step) * step)
    return top, step


def _label_indexes(count: int) -> list[int]:
    if count <= MAX_X_LABELS:
        return list(range(count))
    every = math.ceil(count / MAX_X_LABELS)
    return list(range(0, count, every))


def _fmt(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")


def summary(points: Sequence[Point], title: str, unit: Unit, *, summable: bool) -> str:
    """A sentence that says what the chart shows, for screen readers."""
    if not points:
        return f"{title}: no data."
    highest = max(points, key=lambda p: p.value)
    span = (points[0].title if len(points) == 1
            else f"{points[0].title} to {points[-1].title}")
    parts = [f"{title}, {len(points)} bars, {span}."]
    if summable:
        parts.append(f"Total {unit.exact(sum(p.value for p in points))}.")
    if highest.value:
        parts.append(f"Highest {unit.exact(highest.value)} ({highest.title}).")
    else:
        parts.append("All zero.")
    return " ".join(parts)


def bar_chart(
    points: Sequence[Point], *, title: str, unit: Unit, summable: bool = True,
    chart_id: str = "chart",
) -> str:
    """An SVG bar chart of `points` (oldest first), as text to inline in a page."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base_y = MARGIN_TOP + plot_h
    largest = max((p.value for p in points), default=0)
    top, step = axis_top(largest)
    label = summary(points, title, unit, summable=summable)
    out = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(label)}" data-top="{top}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
    ]
    # Horizontal grid lines and y labels.
    for tick in range(0, top + 1, step):
        y = base_y - plot_h * tick / top
        out.append(f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
                   f'y1="{_fmt(y)}" y2="{_fmt(y)}"/>')
        out.append(f'<text class="y-label" x="{MARGIN_LEFT - 6}" y="{_fmt(y + 4)}" '
                   f'text-anchor="end">{escape(unit.short(tick))}</text>')
    band = plot_w / max(len(points), 1)
    bar_w = max(band * BAR_FILL, 0.5)
    out.append('<g class="bars">')
    for index, point in enumerate(points):
        x = MARGIN_LEFT + band * index
        height = plot_h * point.value / top
        tip = f"{point.title}: {unit.exact(point.value)}"
        out.append(
            f'<g class="bar" data-value="{point.value}" data-start="{escape(point.key)}">'
            f"<title>{escape(tip)}</title>"
            # The whole column answers hover, so even a zero bar shows its tooltip.
            f'<rect class="hit" x="{_fmt(x)}" y="{MARGIN_TOP}" width="{_fmt(band)}" '
            f'height="{plot_h}"/>'
            f'<rect class="fill" x="{_fmt(x + (band - bar_w) / 2)}" '
            f'y="{_fmt(base_y - height)}" width="{_fmt(bar_w)}" height="{_fmt(height)}"/>'
            "</g>"
        )
    out.append("</g>")
    # The x axis and a few bucket labels.
    out.append(f'<line class="axis" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
               f'y1="{base_y}" y2="{base_y}"/>')
    for index in _label_indexes(len(points)):
        x = MARGIN_LEFT + band * (index + 0.5)
        out.append(f'<text class="x-label" x="{_fmt(x)}" y="{base_y + 19}" '
                   f'text-anchor="middle">{escape(points[index].label)}</text>')
    out.append("</svg>")
    return "".join(out)
