"""The hub's small pure helpers: `since` parsing, reading a seq, origin checks."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from imagechat.auth.origins import origin_allowed
from imagechat.domain.errors import ImageChatError
from imagechat.domain.models import Tenant
from imagechat.live.hub import _since, _stamp_of


def tenant(*origins: str) -> Tenant:
    return Tenant(id="t1", name="Blog", api_secret="s", allow_anonymous=True,
                  allow_simple_sso=False, allowed_origins=origins, created_at=0)


# --- _since --------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"since": None}, {"since": ""}, {"epoch": "e1"}])
def test_since_missing_is_none(params: dict[str, Any]) -> None:
    assert _since(params) == (None, None)


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("42", 42), (7, 7), (0, 0)])
def test_since_parses_whole_numbers_from_query_strings_and_json(raw: Any, expected: int) -> None:
    assert _since({"since": raw}) == (expected, None)


def test_since_returns_the_epoch_with_it() -> None:
    assert _since({"since": "5", "epoch": "ep-1"}) == (5, "ep-1")
    assert _since({"since": "5", "epoch": ""}) == (5, None)
    assert _since({"since": 5, "epoch": 123}) == (5, None)  # a non-string epoch is ignored


@pytest.mark.parametrize("raw", ["-1", -1, -100])
def test_since_negative_is_refused(raw: Any) -> None:
    with pytest.raises(ImageChatError) as info:
        _since({"since": raw})
    assert "negative" in info.value.reason


@pytest.mark.parametrize("raw", ["abc", "1.5", "5.0", "0x10", "1e3", [], {}, [1]])
def test_since_non_numeric_is_refused(raw: Any) -> None:
    with pytest.raises(ImageChatError) as info:
        _since({"since": raw})
    assert info.value.status == 400


@pytest.mark.parametrize("raw", [True, False])
def test_since_bool_is_refused(raw: bool) -> None:
    # JSON `true` is an int to Python; it must not read as seq 1.
    with pytest.raises(ImageChatError):
        _since({"since": raw})


@pytest.mark.parametrize("raw", [5.5, 0.9])
def test_since_fractional_json_number_is_refused(raw: float) -> None:
    # `{"op":"resync","since":5.5}`: the error says "whole number"; int() would truncate.
    with pytest.raises(ImageChatError):
        _since({"since": raw})


# --- _stamp_of -----------------------------------------------------------------------


def test_stamp_of_a_logged_event_is_its_seq_and_creation_time() -> None:
    payload = orjson.dumps({"type": "new-comment", "timestamp": 1_700_000_000_123,
                            "broadcastId": "b", "seq": 17, "comment": {"seq": 99}})
    assert _stamp_of(payload) == (17, 1_700_000_000_123)


def test_stamp_of_a_logged_event_without_a_timestamp_has_no_time() -> None:
    assert _stamp_of(b'{"seq":3,"timestamp":"soon"}') == (3, None)


def test_stamp_of_a_presence_event_has_no_seq() -> None:
    payload = orjson.dumps({"type": "p-u", "timestamp": 1, "uj": ["a"], "ul": [], "sc": 2})
    assert _stamp_of(payload) == (None, None)


@pytest.mark.parametrize("payload", [b'{"seq":"17"}', b'{"seq":null}', b"[1,2]", b'"x"'])
def test_stamp_of_without_an_integer_seq_has_no_seq(payload: bytes) -> None:
    assert _stamp_of(payload)[0] is None


# --- origin_allowed ------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://a.example", "http://evil.test", "null"])
def test_no_allowed_origins_means_any(origin: str) -> None:
    assert origin_allowed(tenant(), origin)


def test_star_allows_any_origin() -> None:
    assert origin_allowed(tenant("https://a.example", "*"), "http://evil.test")


@pytest.mark.parametrize("origin", ["https://blog.example.com", "https://blog.example.com/"])
def test_exact_match_with_or_without_trailing_slash(origin: str) -> None:
    assert origin_allowed(tenant("https://other.example", "https://blog.example.com"), origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://blog.example.com",  # another scheme is another origin
        "https://blog.example.com:8443",  # and so is another port
        "https://blog.example.com.evil.test",
        "https://sub.blog.example.com",
        "null",
        "",
    ],
)
def test_other_origins_are_refused(origin: str) -> None:
    assert not origin_allowed(tenant("https://blog.example.com"), origin)

