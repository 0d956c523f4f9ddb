"""Reading an event's seq and creation time from the bytes the broker carries."""

from __future__ import annotations

import orjson
import pytest

from imagechat.live.delivery import stamp_of


def test_stamp_of_a_logged_event_is_its_seq_and_creation_time() -> None:
    payload = orjson.dumps({"type": "new-comment", "timestamp": 1_700_000_000_123,
                            "broadcastId": "b", "seq": 17, "comment": {"seq": 99}})
    assert stamp_of(payload) == (17, 1_700_000_000_123)


def test_stamp_of_a_logged_event_without_a_timestamp_has_no_time() -> None:
    assert stamp_of(b'{"seq":3,"timestamp":"soon"}') == (3, None)


def test_stamp_of_a_presence_event_has_no_seq() -> None:
    payload = orjson.dumps({"type": "p-u", "timestamp": 1, "uj": ["a"], "ul": [], "sc": 2})
    assert stamp_of(payload) == (None, None)


@pytest.mark.parametrize("payload", [b'{"seq":"17"}', b'{"seq":null}', b"[1,2]", b'"x"'])
def test_stamp_of_without_an_integer_seq_has_no_seq(payload: bytes) -> None:
    assert stamp_of(payload)[0] is None
