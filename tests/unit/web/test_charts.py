"""The SVG bar charts: readable numbers, exact values on every bar, accessible text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from imagechat.web import charts
from imagechat.web.charts import Point, Unit, axis_top, bar_chart, compact, compact_bytes

SVG = "{http://www.w3.org/2000/svg}"
COMMENTS = Unit("comment", "comments")
BYTES = Unit("byte", "bytes", is_bytes=True)


def points(*values: int) -> list[Point]:
    return [Point(value=v, label=f"{i + 1} May", title=f"{i + 1} May 2024",
                  key=f"2024-05-{i + 1:02d}") for i, v in enumerate(values)]


def bars(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar"]


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (15_500, "15.5k"),
    (999_999, "1M"), (999_400, "999k"), (2_500_000, "2.5M"), (3_000_000_000, "3G"),
])
def test_compact_numbers(value: int, text: str) -> None:
    assert compact(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 B"), (999, "999 B"), (1500, "1.5 kB"), (2_000_000, "2 MB"),
    (7_260_000_000, "7.3 GB"), (999_999, "1 MB"),
])
def test_compact_bytes(value: int, text: str) -> None:
    assert compact_bytes(value) == text


def test_exact_values_name_their_unit() -> None:
    assert COMMENTS.exact(1) == "1 comment"
    assert COMMENTS.exact(12345) == "12,345 comments"
    assert BYTES.exact(999) == "999 bytes"
    assert BYTES.exact(1_234_567) == "1,234,567 bytes (1.2 MB)"


@pytest.mark.parametrize("largest", [0, 1, 3, 4, 5, 7, 10, 37, 99, 100, 101, 999, 12_345, 987_654])
def test_axis_top_covers_the_largest_value_with_whole_ticks(largest: int) -> None:
    top, step = axis_top(largest)
    assert step >= 1 and top % step == 0
    assert top >= max(largest, 1)
    # Not absurdly far above the data, and a handful of ticks at most.
    assert top < max(largest, 1) * 2.5 + step
    assert top // step <= 10
    assert str(step).strip("0") in ("1", "2", "5")


def test_every_bar_carries_its_exact_value_and_bucket() -> None:
    values = [3, 0, 12_345, 7]
    svg = bar_chart(points(*values), title="Comments posted per day", unit=COMMENTS)
    found = bars(svg)
    assert [int(g.get("data-value", "")) for g in found] == values
    assert [g.get("data-start") for g in found] == ["2024-05-01", "2024-05-02", "2024-05-03",
                                                     "2024-05-04"]
    titles = [g.findtext(f"{SVG}title") for g in found]
    assert titles[0] == "1 May 2024: 3 comments"
    assert titles[2] == "3 May 2024: 12,345 comments"


def test_bar_heights_are_proportional_to_values() -> None:
    svg = bar_chart(points(10, 5, 0), title="t", unit=COMMENTS)
    heights = [float(g.findall(f"{SVG}rect")[1].get("height", "")) for g in bars(svg)]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[2] == 0
    top = int(ET.fromstring(svg).get("data-top", ""))
    plot_h = charts.HEIGHT - charts.MARGIN_TOP - charts.MARGIN_BOTTOM
    assert heights[0] == pytest.approx(plot_h * 10 / top)


def test_chart_is_an_accessible_image_with_a_summary() -> None:
    svg = bar_chart(points(2, 5, 1), title="Comments posted per day", unit=COMMENTS,
                    chart_id="c1")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("id") == "c1"
    label = root.get("aria-label", "")
    assert "Comments posted per day" in label
    assert "Total 8 comments" in label
    assert "Highest 5 comments (2 May 2024)" in label


def test_peaks_are_not_summed_in_the_summary() -> None:
    svg = bar_chart(points(2, 5), title="Peak viewers", unit=Unit("viewer", "viewers"),
                    summable=False)
    label = ET.fromstring(svg).get("aria-label", "")
    assert "Total" not in label and "Highest 5 viewers" in label


def test_y_axis_labels_are_readable_numbers() -> None:
    svg = bar_chart(points(1_800_000), title="Bandwidth", unit=BYTES)
    labels = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")
              if t.get("class") == "y-label"]
    assert labels[0] == "0 B" and labels[-1] == "2 MB"


def test_long_series_label_only_some_buckets() -> None:
    svg = bar_chart(points(*range(168)), title="t", unit=COMMENTS)
    x_labels = [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "x-label"]
    assert 2 <= len(x_labels) <= charts.MAX_X_LABELS
    assert len(bars(svg)) == 168


def test_empty_and_all_zero_charts_still_draw() -> None:
    zero = bar_chart(points(0, 0), title="Quiet", unit=COMMENTS)
    assert "All zero" in (ET.fromstring(zero).get("aria-label") or "")
    empty = bar_chart([], title="Nothing", unit=COMMENTS)
    assert bars(empty) == [] and "no data" in (ET.fromstring(empty).get("aria-label") or "")


def test_text_is_escaped() -> None:
    evil = [Point(value=1, label="<b>", title='"><script>alert(1)</script>', key="<k>")]
    svg = bar_chart(evil, title="<i>t</i>", unit=COMMENTS)
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    assert re.search(r"&lt;script&gt;", svg)
    ET.fromstring(svg)  # still well-formed XML
