"""docs/protocol.md is checked: each example has exactly the shape the server sends, and
the close-code table matches the codes the server uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from imagechat.live.close_codes import CloseCode
from imagechat.store import event_log
from tests.helpers import services
from tests.integration.conftest import Live
from tests.live_server import live_client
from tests.mockups import make_pair

# Each test runs on the fast path and on the ASGI route (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
_EXAMPLE_RE = re.compile(r"<!-- example: (?P<type>[\w-]+) -->\n```json\n(?P<json>.*?)\n```", re.S)


def examples() -> dict[str, dict[str, Any]]:
    return {m["type"]: orjson.loads(m["json"]) for m in _EXAMPLE_RE.finditer(DOC)}


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively; numbers are one type (JSON does not tell 1 from 1.0)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else type(value).__name__


def same_shape(documented: Any, actual: Any) -> bool:
    if isinstance(documented, dict) and isinstance(actual, dict):
        return documented.keys() == actual.keys() and all(
            same_shape(documented[k], actual[k]) for k in documented
        )
    # A documented null may be a value in another example, and the reverse.
    return documented == actual or "null" in (documented, actual)


def test_close_code_table_matches_the_server() -> None:
    rows = dict(re.findall(r"^\| (\d{4}) \| (\w+) \|", DOC, re.M))
    assert rows == {str(c.value): c.name for c in CloseCode}


def test_every_documented_example_is_parsed() -> None:
    assert set(examples()) == {"new-image-chat", "new-comment", "new-vote", "p-u", "resumed",
                               "resync-required", "image-version"}


async def test_examples_have_the_shape_the_server_sends(live: Live) -> None:
    documented = examples()
    seen: dict[str, dict[str, Any]] = {}
    async with live_client(live.address, urlId="mockups/home.png", tenantIdWS="demo",
                           userIdWS="ann-browser-1") as client:
        created = await live.http.post("/comment-image-chats/demo", json={
            "urlId": "mockups/home.png", "x": 42.5, "y": 18, "broadcastId": "b-1",
            "comment": "Could this be <b>bigger</b>?", "commenterName": "Ann",
            "anonUserId": "ann-browser-1"})
        comment_id = created.json()["comment"]["_id"]
        await live.http.post(f"/comments/demo/{comment_id}/vote",
                             json={"voteDir": "up", "anonUserId": "voter-0001"})
        # Two versions of the image, uploaded by the site's backend: the second carries the
        # conversation over.
        pair = make_pair(1005)
        secret = (await services(live.app).tenants.get("demo")).api_secret
        for data in (pair.old, pair.new):
            uploaded = await live.http.post(
                "/api/v1/images/versions", content=data,
                params={"tenantId": "demo", "urlId": "mockups/home.png"},
                headers={"X-API-Key": secret, "Content-Type": "image/png"})
            assert uploaded.status_code == 200, uploaded.text
        while not {"image-version", "p-u", "new-vote"} <= set(seen):
            event = await client.next()
            if event["type"] != "image-version" or event["version"]["version"] == 2:
                seen.setdefault(event["type"], event)
    async with live_client(live.address, urlId="mockups/home.png", tenantIdWS="demo",
                           since=0) as client:
        while "resumed" not in seen:
            event = await client.next()
            seen.setdefault(event["type"], event)
    async with services(live.app).db.write() as conn:
        await event_log.trim(conn, "demo", "mockups/home.png", keep_after_seq=3)
    async with live_client(live.address, urlId="mockups/home.png", tenantIdWS="demo",
                           since=1) as client:
        seen["resync-required"] = await client.next_of("resync-required")
    for event_type, example in documented.items():
        assert event_type in seen, event_type
        assert same_shape(shape(example), shape(seen[event_type])), (
            f"{event_type}: documented {shape(example)}\n actual {shape(seen[event_type])}")
