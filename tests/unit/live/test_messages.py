"""Client messages, parsed without I/O: `since` from a query string or a JSON message."""

from __future__ import annotations

from typing import Any

import pytest

from imagechat.domain.errors import ImageChatError
from imagechat.live.messages import parse_since


@pytest.mark.parametrize("params", [{}, {"since": None}, {"since": ""}, {"epoch": "e1"}])
def test_since_missing_is_none(params: dict[str, Any]) -> None:
    assert parse_since(params) == (None, None)


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("42", 42), (7, 7), (0, 0)])
def test_since_parses_whole_numbers_from_query_strings_and_json(raw: Any, expected: int) -> None:
    assert parse_since({"since": raw}) == (expected, None)


def test_since_returns_the_epoch_with_it() -> None:
    assert parse_since({"since": "5", "epoch": "ep-1"}) == (5, "ep-1")
    assert parse_since({"since": "5", "epoch": ""}) == (5, None)
    assert parse_since({"since": 5, "epoch": 123}) == (5, None)  # a non-string epoch is ignored


@pytest.mark.parametrize("raw", ["-1", -1, -100])
def test_since_negative_is_refused(raw: Any) -> None:
    with pytest.raises(ImageChatError) as info:
        parse_since({"since": raw})
    assert "negative" in info.value.reason


@pytest.mark.parametrize("raw", ["abc", "1.5", "5.0", "0x10", "1e3", [], {}, [1]])
def test_since_non_numeric_is_refused(raw: Any) -> None:
    with pytest.raises(ImageChatError) as info:
        parse_since({"since": raw})
    assert info.value.status == 400


@pytest.mark.parametrize("raw", [True, False])
def test_since_bool_is_refused(raw: bool) -> None:
    # JSON `true` is an int to Python; it must not read as seq 1.
    with pytest.raises(ImageChatError):
        parse_since({"since": raw})


@pytest.mark.parametrize("raw", [5.5, 0.9])
def test_since_fractional_json_number_is_refused(raw: float) -> None:
    # `{"op":"resync","since":5.5}`: the error says "whole number"; int() would truncate.
    with pytest.raises(ImageChatError):
        parse_since({"since": raw})
