"""Validation of what visitors send: each bad input is a 400 or 413 with a stable code."""

from __future__ import annotations

import math
from typing import Any

import pytest

from imagechat.domain import limits, rules
from imagechat.domain.errors import BadInput, ImageChatError, TooLarge


def code_of(exc_type: type[ImageChatError], fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert type(info.value) is exc_type
    return info.value.code


# --- require_text / optional_text ----------------------------------------------------


def test_require_text_returns_the_value_unchanged() -> None:
    assert rules.require_text("  hi  ", "comment", 10) == "  hi  "


def test_require_text_at_the_limit() -> None:
    assert rules.require_text("x" * 10, "comment", 10) == "x" * 10


def test_require_text_too_long_is_413() -> None:
    with pytest.raises(TooLarge) as info:
        rules.require_text("x" * 11, "comment", 10)
    assert info.value.status == 413
    assert info.value.code == "comment-too-long"


def test_require_text_missing() -> None:
    assert code_of(BadInput, rules.require_text, None, "comment", 10) == "missing-field"


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_require_text_empty(value: str) -> None:
    assert code_of(BadInput, rules.require_text, value, "comment", 10) == "missing-field"


@pytest.mark.parametrize("value", [5, 1.0, True, ["a"], {"a": 1}, b"bytes"])
def test_require_text_not_a_string(value: Any) -> None:
    assert code_of(BadInput, rules.require_text, value, "comment", 10) == "invalid-field"


@pytest.mark.parametrize("value", ["\x00", "a\x00b"])
def test_require_text_nul(value: str) -> None:
    assert code_of(BadInput, rules.require_text, value, "comment", 10) == "invalid-field"


def test_require_text_allow_empty() -> None:
    assert rules.require_text(None, "comment", 10, allow_empty=True) == ""
    assert rules.require_text("", "comment", 10, allow_empty=True) == ""
    assert rules.require_text("  ", "comment", 10, allow_empty=True) == "  "


def test_optional_text() -> None:
    assert rules.optional_text(None, "pageTitle", 10) is None
    assert rules.optional_text("", "pageTitle", 10) is None
    assert rules.optional_text("Title", "pageTitle", 10) == "Title"
    assert code_of(TooLarge, rules.optional_text, "x" * 11, "pageTitle", 10) == (
        "pagetitle-too-long"
    )
    assert code_of(BadInput, rules.optional_text, "a\x00", "pageTitle", 10) == "invalid-field"
    assert code_of(BadInput, rules.optional_text, 3, "pageTitle", 10) == "invalid-field"


def test_length_counts_characters_not_bytes() -> None:
    assert rules.require_text("ż" * 10, "comment", 10) == "ż" * 10


# --- require_id ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "A-b_c.d:e@f", "0123456789abcdef01234567",
                                   "550e8400-e29b-41d4-a716-446655440000"])
def test_require_id_accepts(value: str) -> None:
    assert rules.require_id(value, "commentId") == value


@pytest.mark.parametrize("value", ["a b", "a/b", "<x>", "a\nb", "ą", "a?b", "a#b", "a%20",
                                   "abc\n", "\nabc"])
def test_require_id_rejects_odd_characters(value: str) -> None:
    assert code_of(BadInput, rules.require_id, value, "commentId") == "invalid-id"


def test_require_id_length() -> None:
    assert rules.require_id("i" * limits.MAX_ID_CHARS, "commentId")
    assert code_of(TooLarge, rules.require_id, "i" * (limits.MAX_ID_CHARS + 1), "commentId")


@pytest.mark.parametrize("value", [None, "", 12])
def test_require_id_missing_or_not_text(value: Any) -> None:
    with pytest.raises(BadInput):
        rules.require_id(value, "commentId")


def test_optional_id() -> None:
    assert rules.optional_id(None, "parentId") is None
    assert rules.optional_id("", "parentId") is None
    assert rules.optional_id("p1", "parentId") == "p1"
    with pytest.raises(BadInput):
        rules.optional_id("p 1", "parentId")


# --- require_percentage --------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 100, 0.5, 50, 99.999, 0.0, 100.0])
def test_percentage_accepts(value: float) -> None:
    result = rules.require_percentage(value, "x")
    assert result == value
    assert isinstance(result, float)


@pytest.mark.parametrize("value", [-0.01, 100.01, -1, 101, math.nan, math.inf, -math.inf,
                                   True, False, "50", None, [50], {"x": 50}])
def test_percentage_rejects(value: Any) -> None:
    assert code_of(BadInput, rules.require_percentage, value, "x") == "invalid-coordinate"


def test_percentage_rejects_an_integer_too_large_for_a_float() -> None:
    # Every rule must answer bad input with a domain error (a 400), never a crash.
    assert code_of(BadInput, rules.require_percentage, 10**400, "x") == "invalid-coordinate"


# --- clean_url_id --------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    ("https://example.com/gallery/cat.png", "example.com/gallery/cat.png"),
    ("http://example.com/gallery/cat.png", "example.com/gallery/cat.png"),
    ("HTTPS://EXAMPLE.com/Gallery/Cat.png", "example.com/Gallery/Cat.png"),  # path case kept
    ("https://example.com/page#comments", "example.com/page"),
    ("https://example.com/page/", "example.com/page"),
    ("https://example.com/", "example.com"),
    ("https://example.com/p?img=2", "example.com/p?img=2"),
    ("https://example.com/p?img=2#top", "example.com/p?img=2"),
    ("  https://Example.com/p  ", "example.com/p"),
    ("my-image-42", "my-image-42"),
    ("/", "/"),
])
def test_clean_url_id(raw: str, clean: str) -> None:
    assert rules.clean_url_id(raw) == clean


def test_spellings_of_one_page_are_one_channel() -> None:
    spellings = ["https://Example.com/a/b", "http://example.com/a/b/", "example.com/a/b",
                 "https://EXAMPLE.COM/a/b#frag"]
    assert len({rules.clean_url_id(s) for s in spellings}) == 1


def test_query_is_kept_and_distinguishes_images() -> None:
    assert rules.clean_url_id("https://e.com/p?img=1") != rules.clean_url_id("https://e.com/p?img=2")


def test_query_case_is_kept_without_a_path() -> None:
    # Only the host is case-insensitive; a query selecting the image must keep its case.
    assert rules.clean_url_id("https://Example.com?img=AbC") == "example.com?img=AbC"


@pytest.mark.parametrize("raw", ["#only-fragment", "https://", "https://#x"])
def test_clean_url_id_empty_after_cleaning(raw: str) -> None:
    assert code_of(BadInput, rules.clean_url_id, raw) == "missing-field"


@pytest.mark.parametrize("raw", [None, "", "   ", 5])
def test_clean_url_id_missing(raw: Any) -> None:
    with pytest.raises(BadInput):
        rules.clean_url_id(raw)


def test_clean_url_id_character_limit() -> None:
    ok = "a" * limits.MAX_URL_ID_CHARS
    assert rules.clean_url_id(ok) == ok
    assert code_of(TooLarge, rules.clean_url_id, ok + "a") == "urlid-too-long"


def test_clean_url_id_byte_limit() -> None:
    # Within the character limit but four bytes a character: too many bytes for an index.
    emoji = "\U0001f600" * limits.MAX_URL_ID_CHARS
    assert len(emoji.encode()) > limits.MAX_URL_ID_BYTES
    assert code_of(TooLarge, rules.clean_url_id, emoji) == "urlid-too-long"
    fits = "ż" * (limits.MAX_URL_ID_BYTES // 2)  # two bytes each, exactly at the byte limit
    assert len(fits) <= limits.MAX_URL_ID_CHARS
    assert rules.clean_url_id(fits) == fits


# --- require_vote_direction ----------------------------------------------------------


def test_vote_direction() -> None:
    assert rules.require_vote_direction("up") == 1
    assert rules.require_vote_direction("down") == -1


@pytest.mark.parametrize("value", ["UP", "Down", "", None, 1, -1, True, "sideways"])
def test_vote_direction_rejects(value: Any) -> None:
    assert code_of(BadInput, rules.require_vote_direction, value) == "invalid-vote"


# --- page_number ---------------------------------------------------------------------


@pytest.mark.parametrize(("value", "page"), [
    (None, 0), ("", 0), (0, 0), ("0", 0), (3, 3), ("3", 3), ("1000000", 1_000_000),
])
def test_page_number(value: Any, page: int) -> None:
    assert rules.page_number(value) == page


@pytest.mark.parametrize("value", ["-1", -1, "1000001", "abc", "1.5", [1], {}, "1e3"])
def test_page_number_rejects(value: Any) -> None:
    assert code_of(BadInput, rules.page_number, value) == "invalid-page"


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_page_number_rejects_non_finite_numbers(value: float) -> None:
    assert code_of(BadInput, rules.page_number, value) == "invalid-page"


def test_the_widgets_default_url_ids_of_two_images_of_a_page_stay_two() -> None:
    # The widget's default urlId is `<page URL>|<image src>` (web/widget/options.mjs).
    first = rules.clean_url_id("https://Shop.test/home|/img/a.png")
    assert first == "shop.test/home|/img/a.png"
    assert first != rules.clean_url_id("https://shop.test/home|/img/b.png")
