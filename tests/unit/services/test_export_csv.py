"""The CSV export's cells: formulas kept as text, quoting, plain text from sanitized HTML,
replies after what they answer."""

from __future__ import annotations

import csv
import io

import pytest

from imagechat.domain.models import Comment, Conversation, Positioned
from imagechat.domain.text import plain_text, render_comment_html
from imagechat.services import export_csv
from imagechat.services.image_export import file_name, require_format
from imagechat.services.image_report import ImageReport, ReportThread, in_reply_order


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx",
                                  '=HYPERLINK("http://x")'])
def test_a_cell_a_spreadsheet_would_run_is_kept_as_text(cell: str) -> None:
    assert export_csv.safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["plain", "1+1=2", " =x", "", "'quoted", "a@b"])
def test_other_cells_are_left_alone(cell: str) -> None:
    assert export_csv.safe_cell(cell) == cell


def test_plain_text_drops_markup_and_keeps_lines() -> None:
    html = render_comment_html('<p>Hi <b>all</b> &amp; <script>x()</script></p><ul>'
                               '<li>one</li><li>two</li></ul>1 &lt;b&gt; 2\nlast')
    assert plain_text(html) == "Hi all &\n• one\n• two\n1 <b> 2\nlast"
    assert plain_text(render_comment_html('<img src=x onerror=alert(1)>ok')) == "ok"


def _comment(cid: str, parent: str | None, text: str, at: int) -> Comment:
    return Comment(id=cid, tenant_id="t", url_id="img:1", url="", parent_id=parent,
                   commenter_name="Zoë", comment=text, comment_html=render_comment_html(text),
                   user_id=None, anon_user_id="a", avatar=None, verified=False, approved=True,
                   is_by_admin=False, is_by_moderator=False, votes_up=0, votes_down=0,
                   edit_key_hash=None, created_at=at, updated_at=at)


def test_replies_follow_what_they_answer() -> None:
    found = [_comment("a", None, "a", 1), _comment("b", None, "b", 2),
             _comment("a1", "a", "a1", 3), _comment("a11", "a1", "a11", 4)]
    assert [(d, c.id) for d, c in in_reply_order(found)] == [
        (0, "a"), (1, "a1"), (2, "a11"), (0, "b")]


def test_rows_quote_what_needs_quoting() -> None:
    conversation = Conversation(id="c1", tenant_id="t", url_id="img", window_url_id="img:1",
                                page_url=None, page_title=None, src=None, x=12.5, y=40,
                                comment_count=1, resolved=False, user_id=None, anon_user_id="a",
                                commenter_name="Zoë", edit_key_hash=None, created_at=0,
                                updated_at=0)
    place = Positioned(conversation=conversation, on_version=None, x=12.5, y=40, region_w=None,
                       region_h=None)
    report = ImageReport("t", "img", None, None, [ReportThread(
        1, place, [_comment("m", None, 'say "hi", then\n=cmd', 0)], {"m": {"👍": 3}})], 0)
    text = export_csv.render(report).decode("utf-8-sig")
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["x"], row["y"], row["version"], row["shape"]) == ("12.5", "40", "", "point")
    assert row["text"] == 'say "hi", then\n=cmd' and row["reactions"] == "👍 3"
    assert row["date"] == "1970-01-01T00:00:00Z"


def test_formats_and_file_names() -> None:
    assert require_format(" PDF ").extension == "pdf"
    assert require_format("jsonld").extension == "jsonld"
    with pytest.raises(Exception, match="one of: csv, jsonld, pdf") as caught:
        require_format("xlsx")
    assert getattr(caught.value, "code", None) == "export-format-unsupported"
    assert file_name("example.com/a b/ż.png", "csv") == "example.com-a-b-.png.csv"
    assert file_name("///", "pdf") == "image.pdf"
