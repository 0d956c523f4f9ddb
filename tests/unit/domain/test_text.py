"""Comment HTML is sanitized: no script ever reaches another viewer (docs/compatibility.md)."""

from __future__ import annotations

import pytest

from imagechat.domain.text import plain_name, render_comment_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<IMG SRC="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<b onmouseover=alert(1)>bold</b>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><img src=x onerror=alert(1)>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=javascript:alert(1)>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<!--<img src=x onerror=alert(1)>-->",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
]

FORBIDDEN = ["<script", "onerror", "onload", "onmouseover", "ontoggle", "javascript:",
             "<iframe", "<svg", "<img", "<object", "<embed", "<style", "data:text/html"]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_are_neutralised(payload: str) -> None:
    html = render_comment_html(f"hello {payload} world").lower()
    for bad in FORBIDDEN:
        assert bad not in html, (bad, html)
    assert "hello" in html  # the visitor's text survives


def test_script_is_removed_with_its_content() -> None:
    assert render_comment_html("a<script>alert(1)</script>b") == "ab"


def test_style_is_removed_with_its_content() -> None:
    assert render_comment_html("<style>body{display:none}</style>ok") == "ok"


def test_allowed_markup_is_kept() -> None:
    assert render_comment_html("<b>bold</b> and <i>it</i>") == "<b>bold</b> and <i>it</i>"


def test_links_keep_https_href_and_get_noopener() -> None:
    html = render_comment_html('<a href="https://example.com/x">site</a>')
    assert 'href="https://example.com/x"' in html
    rel = html.split('rel="', 1)[1].split('"', 1)[0].split()
    assert "noopener" in rel
    assert "noreferrer" in rel
    assert ">site</a>" in html


def test_link_with_javascript_href_loses_the_href() -> None:
    html = render_comment_html('<a href="javascript:alert(1)">x</a>')
    assert "href" not in html
    assert "x" in html


def test_link_attributes_beyond_href_and_title_are_dropped() -> None:
    html = render_comment_html('<a href="https://e.com" target="_blank" id="i" title="t">x</a>')
    assert 'title="t"' in html
    assert "target" not in html and 'id="' not in html


def test_newlines_become_br() -> None:
    assert render_comment_html("one\ntwo\r\nthree") == "one<br>two<br>three"


def test_outer_white_space_is_trimmed() -> None:
    assert render_comment_html("\n\n  hi  \n") == "hi"


def test_text_that_looks_like_markup_is_escaped_not_dropped() -> None:
    assert render_comment_html("1 < 2 & 3 > 2") == "1 &lt; 2 &amp; 3 &gt; 2"


def test_plain_name_strips_tags() -> None:
    assert plain_name("<b>Bob</b>") == "Bob"
    assert plain_name('<a href="https://x">Ann</a> <i>Lee</i>') == "Ann Lee"
    assert plain_name("<script>alert(1)</script>Eve") == "Eve"
    assert plain_name('<img src=x onerror="alert(1)">') == ""


def test_plain_name_collapses_white_space() -> None:
    assert plain_name("  Ann \n\t  Lee  ") == "Ann Lee"


def test_plain_name_keeps_text_as_text() -> None:
    # A display name is text, never markup: it must not come back entity-encoded
    # (clients show it as text, so "&amp;" would appear literally).
    assert plain_name("Tom & Jerry") == "Tom & Jerry"
