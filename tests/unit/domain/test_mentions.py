from __future__ import annotations

from imagechat.domain.mentions import MAX_MENTIONS, first_words, text_of, wrap_mentions
from imagechat.domain.models import Mention
from imagechat.domain.text import render_comment_html

ANN = Mention("u-ann", "@Ann Smith")
BO = Mention("u-bo", "@Bo")


def test_known_tags_in_text_become_spans_longest_first() -> None:
    html, found = wrap_mentions(render_comment_html("@Ann Smith, @Ann and @bo!"),
                                [Mention("u-a", "@Ann"), ANN, BO])
    assert html == ('<span class="mention" data-user-id="u-ann">@Ann Smith</span>, '
                    '<span class="mention" data-user-id="u-a">@Ann</span> and '
                    '<span class="mention" data-user-id="u-bo">@bo</span>!')
    assert [m.id for m in found] == ["u-ann", "u-a", "u-bo"]


def test_tags_must_stand_as_words() -> None:
    for text in ("@Bobby", "ann@Bo.example", "@Bo_x", "x@Bo"):
        html, found = wrap_mentions(render_comment_html(text), [BO])
        assert found == () and html == render_comment_html(text), text


def test_markup_and_removed_content_mention_nobody() -> None:
    text = '<a href="https://x.example/@Bo">link</a> <script>@Bo</script> <b>@Bo</b>'
    html, found = wrap_mentions(render_comment_html(text), [BO])
    assert found == (BO,)
    assert html.count('data-user-id="u-bo"') == 1
    assert 'href="https://x.example/@Bo"' in html  # attributes are left alone


def test_escaping_survives_and_ids_are_escaped() -> None:
    html, found = wrap_mentions(render_comment_html("a < b & @Bo"),
                                [Mention('x"y', "@Bo")])
    assert html == 'a &lt; b &amp; <span class="mention" data-user-id="x&quot;y">@Bo</span>'
    assert [m.id for m in found] == ['x"y']
    assert text_of(html) == "a < b & @Bo"


def test_without_candidates_or_hits_the_html_is_unchanged() -> None:
    original = render_comment_html("no one @here &amp; there")
    assert wrap_mentions(original, []) == (original, ())
    assert wrap_mentions(original, [BO]) == (original, ())


def test_first_words_are_the_lookup_prefixes_bounded() -> None:
    assert first_words(render_comment_html("hi @Ann Smith, @bo. and @Ann again")) == \
        ["Ann", "bo"]
    many = " ".join(f"@u{n}" for n in range(MAX_MENTIONS + 5))
    assert len(first_words(many)) == MAX_MENTIONS
