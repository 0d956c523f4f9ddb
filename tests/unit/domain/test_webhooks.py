from __future__ import annotations

import hashlib
import hmac

from imagechat.domain.webhooks import signature, signature_matches

BODY = b'{"id":"d1","type":"comment.created"}'


def test_the_signature_is_an_hmac_of_the_time_and_the_raw_body() -> None:
    expected = hmac.new(b"secret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature("secret", 1_700_000_000, BODY) == f"t=1700000000,v1={expected}"


def test_a_receiver_accepts_a_recent_signature_of_this_body_only() -> None:
    header = signature("secret", 1_700_000_000, BODY)
    assert signature_matches("secret", header, BODY, 1_700_000_000 + 299)
    assert not signature_matches("secret", header, BODY + b" ", 1_700_000_000)
    assert not signature_matches("other", header, BODY, 1_700_000_000)
    # Older than five minutes: a replay.
    assert not signature_matches("secret", header, BODY, 1_700_000_000 + 301)
    for broken in ("", "t=abc,v1=00", "v1=00", header.replace("v1=", "v0=")):
        assert not signature_matches("secret", broken, BODY, 1_700_000_000)
