"""Bad input over HTTP (docs/compatibility.md): the right status and code, a readable
reason, nothing half-written, and never a 500.

These tests use a client that turns an unhandled server error into its 500 response instead
of re-raising it, so that a 500 shows up as a status the assertions can name.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant

SECRET = "acme-secret-for-tests"
TWO_DAYS_MS = 2 * 24 * 60 * 60 * 1000


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _failed(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "reason", "code"}, body
    assert body["status"] == "failed"
    assert isinstance(body["reason"], str) and len(body["reason"]) > 5
    if code is not None:
        assert body["code"] == code, body
    return body


async def _state(web: httpx.AsyncClient, tenant: str = "demo",
                 url_id: str = "img-1") -> tuple[int, list[int]]:
    """(seq, comment counts) of an image: what a half-written write would change."""
    response = await web.get(f"/comment-image-chats/{tenant}", params={"urlId": url_id})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["seq"], [c["commentCount"] for c in body["conversations"]]


def _conversation(**fields: Any) -> dict[str, Any]:
    return {"urlId": "img-1", "x": 10, "y": 20, "comment": "hi", "commenterName": "Ann",
            "anonUserId": "anon-1", **fields}


@pytest.mark.parametrize(("x", "y"), [(-0.01, 5), (100.01, 5), (5, -1), (5, 1e9), (1e308, 5)])
async def test_coordinates_out_of_range(web: httpx.AsyncClient, x: float, y: float) -> None:
    body = _failed(await web.post("/comment-image-chats/demo", json=_conversation(x=x, y=y)), 400,
                   "invalid-coordinate")
    assert "0 to 100" in body["reason"]
    assert await _state(web) == (0, [])


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999", '"NaN"', '"inf"'])
async def test_nan_like_coordinates(web: httpx.AsyncClient, raw: str) -> None:
    content = '{"urlId":"img-1","x":' + raw + ',"y":5,"comment":"c","commenterName":"A"}'
    response = await web.post("/comment-image-chats/demo", content=content,
                              headers={"content-type": "application/json"})
    _failed(response, 400, "invalid-coordinate")
    assert await _state(web) == (0, [])


@pytest.mark.parametrize("value", ["abc", "", None, [5], {"v": 5}])
async def test_non_numeric_coordinates(web: httpx.AsyncClient, value: Any) -> None:
    body = _failed(await web.post("/comment-image-chats/demo", json=_conversation(x=value)), 400,
                   "invalid-coordinate")
    assert "`x`" in body["reason"]
    assert await _state(web) == (0, [])


@pytest.mark.parametrize("value", ["50", True])
async def test_coordinates_must_be_json_numbers(web: httpx.AsyncClient, value: Any) -> None:
    """`require_percentage` refuses strings and booleans, but the request schema declares
    `x: float`, and pydantic's lax mode turns "50" into 50.0 and true into 1.0 first."""
    response = await web.post("/comment-image-chats/demo", json=_conversation(x=value))
    body = _failed(response, 400)
    assert body["code"] in {"bad-input", "invalid-coordinate"}
    assert await _state(web) == (0, [])


@pytest.mark.parametrize("url_id", [None, "", "   ", "#only-a-fragment", "a\x00b"])
async def test_missing_or_empty_url_id(web: httpx.AsyncClient, url_id: Any) -> None:
    fields = _conversation(urlId=url_id)
    if url_id is None:
        del fields["urlId"]
    body = _failed(await web.post("/comment-image-chats/demo", json=fields), 400)
    assert "urlId" in body["reason"]
    _failed(await web.get("/comment-image-chats/demo"), 400, "bad-input")
    assert await _state(web) == (0, [])


async def test_first_comment_too_long_creates_nothing(web: httpx.AsyncClient) -> None:
    body = _failed(await web.post("/comment-image-chats/demo",
                                  json=_conversation(comment="x" * 5001)), 413, "comment-too-long")
    assert "5000" in body["reason"]
    assert await _state(web) == (0, [])
    ok = await web.post("/comment-image-chats/demo", json=_conversation(comment="x" * 5000))
    assert ok.status_code == 200, ok.text


async def test_reply_too_long_changes_nothing(web: httpx.AsyncClient) -> None:
    created = await create_conversation(web)
    response = await web.post("/comments/demo", json={
        "comment": "y" * 5001, "commenterName": "Bo", "urlId": created["chat"]["windowUrlId"]})
    _failed(response, 413, "comment-too-long")
    response = await web.post(f"/comments/demo/{created['comment']['_id']}/update-text",
                              params={"editKey": created["editKey"]}, json={"comment": "z" * 5001})
    _failed(response, 413, "comment-too-long")
    assert await _state(web) == (2, [1])


async def test_body_over_64_kib(web: httpx.AsyncClient) -> None:
    huge = _conversation(pageTitle="t" * (64 * 1024))
    body = _failed(await web.post("/comment-image-chats/demo", json=huge), 413, "too-large")
    assert "65536" in body["reason"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(80):
            yield b" " * 1024

    # Without a Content-Length the limit still holds while the body streams in.
    response = await web.post("/comment-image-chats/demo", content=chunks(),
                              headers={"content-type": "application/json"})
    _failed(response, 413, "too-large")
    assert await _state(web) == (0, [])


async def test_malformed_json(web: httpx.AsyncClient) -> None:
    created = await create_conversation(web)
    headers = {"content-type": "application/json"}
    broken = '{"urlId": "img-1", "x": 1,'
    _failed(await web.post("/comment-image-chats/demo", content=broken, headers=headers), 400,
            "malformed-json")
    _failed(await web.post("/comments/demo", content=broken, headers=headers), 400,
            "malformed-json")
    _failed(await web.request("DELETE", f"/comment-image-chats/demo/{created['createdChatId']}",
                              content=broken, headers=headers), 400, "malformed-json")
    assert await _state(web) == (2, [1])


async def test_json_that_is_not_an_object(web: httpx.AsyncClient) -> None:
    created = await create_conversation(web)
    for payload in ([_conversation()], "text", 5, None):
        _failed(await web.post("/comment-image-chats/demo", json=payload), 400, "bad-input")
    response = await web.request("DELETE", f"/comments/demo/{created['comment']['_id']}",
                                 json=[created["editKey"]])
    _failed(response, 400, "malformed-json")
    assert await _state(web) == (2, [1])


async def test_unknown_tenant(web: httpx.AsyncClient) -> None:
    for response in (
        await web.get("/comment-image-chats/nobody", params={"urlId": "img-1"}),
        await web.post("/comment-image-chats/nobody", json=_conversation()),
        await web.get("/comments/nobody", params={"urlId": "chat-x"}),
        await web.get("/events/nobody", params={"urlId": "img-1", "since": 0}),
    ):
        body = _failed(response, 404, "tenant-not-found")
        assert "nobody" in body["reason"]


async def test_sign_in_required_where_anonymous_is_off(
    app: FastAPI, web: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "closed", allow_anonymous=False, api_secret=SECRET)
    _failed(await web.post("/comment-image-chats/closed", json=_conversation()), 401,
            "sign-in-required")
    assert await _state(web, "closed") == (0, [])
    token = make_token(SECRET, {"id": "u-1"}, clock.now_ms())
    created = await create_conversation(web, "closed", sso=token)
    window = created["chat"]["windowUrlId"]
    _failed(await web.post("/comments/closed", json={"comment": "c", "commenterName": "A",
                                                     "urlId": window}), 401, "sign-in-required")
    _failed(await web.post(f"/comments/closed/{created['comment']['_id']}/vote",
                           json={"voteDir": "up", "anonUserId": "anon-1"}), 401)
    assert await _state(web, "closed") == (2, [1])


async def test_bad_sso(app: FastAPI, web: httpx.AsyncClient, clock: FixedClock) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    now = clock.now_ms()
    cases = [
        (make_token("wrong-secret", {"id": "u"}, now), "sso-bad-signature"),
        (make_token(SECRET, {"id": "u"}, now - TWO_DAYS_MS - 1000), "sso-expired"),
        (make_token(SECRET, {"id": "u"}, now + 10 * 60 * 1000), "sso-expired"),
        (make_token(SECRET, {"name": "no id"}, now), "sso-invalid"),
        ({**make_token(SECRET, {"id": "u"}, now), "timestamp": "soon"}, "sso-invalid"),
        ("{not json", "sso-invalid"),
        ("[1, 2]", "sso-invalid"),
        ({"id": "simple-user"}, "simple-sso-disabled"),
    ]
    for token, code in cases:
        _failed(await web.post("/comment-image-chats/acme", json=_conversation(sso=token)), 401,
                code)
        as_text = token if isinstance(token, str) else json.dumps(token)
        _failed(await web.get("/comment-image-chats/acme",
                              params={"urlId": "img-1", "sso": as_text}), 401, code)
    assert await _state(web, "acme") == (0, [])


async def test_unknown_route_and_method(web: httpx.AsyncClient) -> None:
    _failed(await web.get("/no/such/thing"), 404, "not-found")
    _failed(await web.post("/comment-image-chats"), 404, "not-found")
    _failed(await web.put("/comment-image-chats/demo", json={}), 405, "method-not-allowed")


async def test_bad_ids_in_paths_and_queries(web: httpx.AsyncClient) -> None:
    _failed(await web.get("/comment-image-chats/a b", params={"urlId": "img-1"}), 400,
            "invalid-id")
    _failed(await web.delete("/comment-image-chats/demo/not%20an%20id"), 400, "invalid-id")
    _failed(await web.post("/comment-image-chats/demo", json=_conversation(broadcastId="a b")), 400,
            "invalid-id")
    _failed(await web.post("/comment-image-chats/demo",
                           json=_conversation(anonUserId="a" * 200)), 413)
    # A trailing newline is not an id character either (a `$`-anchored pattern let "demo\n"
    # through).
    _failed(await web.get("/comment-image-chats/demo%0A", params={"urlId": "img-1"}), 400,
            "invalid-id")
    _failed(await web.post("/comment-image-chats/demo", json=_conversation(anonUserId="anon-1\n")),
            400, "invalid-id")
    _failed(await web.get("/comments/demo", params={"urlId": "c", "page": -1}), 400,
            "invalid-page")
    _failed(await web.get("/comments/demo", params={"urlId": "c", "page": "two"}), 400)
    _failed(await web.get("/event-log/demo", params={"urlId": "img-1", "startTime": 5,
                                                     "endTime": 1}), 400, "invalid-time")
    assert await _state(web) == (0, [])


async def test_html_entities_in_a_name_never_make_a_500(web: httpx.AsyncClient) -> None:
    """A 100-character name is within the limit, but `plain_name` HTML-escapes it ("&" →
    "&amp;"), so it can grow to 500 characters and overflow VARCHAR(200) on PostgreSQL."""
    response = await web.post("/comment-image-chats/demo",
                              json=_conversation(commenterName="&" * 100))
    assert response.status_code != 500, response.text
    assert response.status_code in {200, 400, 413}
    if response.status_code == 200:
        assert len(response.json()["comment"]["commenterName"]) <= 200


@pytest.mark.parametrize("user", [{"id": "u\x00x"}, {"id": "u-2", "email": "a\x00@b.example"},
                                  {"id": "u" * 128}], ids=["nul-id", "nul-email", "id-128"])
async def test_odd_simple_sso_users_never_make_a_500(
    app: FastAPI, web: httpx.AsyncClient, user: dict[str, str]
) -> None:
    """Simple SSO is unsigned: anyone can send a user id or e-mail with a NUL character,
    which PostgreSQL refuses to store in a text column, or an id of the largest accepted
    length (128), which the `simple:` namespace prefix pushes past VARCHAR(128)."""
    await make_tenant(app, "simple", allow_simple_sso=True)
    response = await web.post("/comment-image-chats/simple", json=_conversation(sso=user))
    assert response.status_code != 500, response.text
    assert response.status_code in {200, 400, 401}


@pytest.mark.parametrize("field", ["comment", "commenterName", "urlId", "pageTitle"])
async def test_lone_surrogate_escapes_are_a_client_error(
    web: httpx.AsyncClient, field: str
) -> None:
    """JSON may spell a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it to a str that
    cannot be encoded as UTF-8, so storing or re-serialising it fails with a 500."""
    fields = _conversation(pageTitle="title")
    fields[field] = "SURROGATE" + str(fields[field])
    content = json.dumps(fields).replace("SURROGATE", "\\ud800")
    response = await web.post("/comment-image-chats/demo", content=content,
                              headers={"content-type": "application/json"})
    _failed(response, 400)
    assert await _state(web) == (0, [])


HEADERS = {"content-type": "application/json"}


@pytest.mark.parametrize("field", ["userDataJSONBase64", "verificationHash"])
async def test_lone_surrogate_in_an_sso_token_is_refused(
    app: FastAPI, web: httpx.AsyncClient, clock: FixedClock, field: str
) -> None:
    """Found by the schema fuzzer's probes: a token field holding `"\\ud800"` reached the
    HMAC, which cannot encode it (500)."""
    await make_tenant(app, "acme", api_secret=SECRET)
    token = make_token(SECRET, {"id": "u"}, clock.now_ms())
    token[field] = "SURROGATE"
    content = json.dumps(_conversation(sso=token)).replace("SURROGATE", "\\ud800")
    response = await web.post("/comment-image-chats/acme", content=content, headers=HEADERS)
    _failed(response, 401, "sso-invalid")
    assert await _state(web, "acme") == (0, [])


async def test_lone_surrogate_edit_key_is_a_refusal(web: httpx.AsyncClient) -> None:
    """Found by the schema fuzzer's probes: an `editKey` of `"\\ud800"` in an update-text
    body reached the key hash, which cannot encode it (500)."""
    created = await create_conversation(web)
    comment_id = created["comment"]["_id"]
    content = '{"comment": "changed", "editKey": "\\ud800"}'
    response = await web.post(f"/comments/demo/{comment_id}/update-text", content=content,
                              headers=HEADERS)
    _failed(response, 403, "not-author")
    listed = (await web.get("/comments/demo",
                            params={"urlId": created["chat"]["windowUrlId"]})).json()
    assert [c["comment"] for c in listed["comments"]] == ["First!"]


@pytest.mark.parametrize("content", [
    b'{"urlId":"i","x":' + b"9" * 5000 + b',"y":1}',
    b'{"urlId":"\xff\xfe","x":1,"y":1}',
], ids=["5000-digit-number", "not-utf8"])
async def test_body_json_cannot_decode_is_malformed_json(
    web: httpx.AsyncClient, content: bytes
) -> None:
    """Bodies Python's JSON decoder gives up on without a syntax error (a number over its
    4,300-digit limit, bytes that are not UTF-8) are malformed JSON, like a syntax error."""
    response = await web.post("/comment-image-chats/demo", content=content, headers=HEADERS)
    body = _failed(response, 400, "malformed-json")
    assert body["reason"] == "The request body is not valid JSON."
    assert await _state(web) == (0, [])


async def test_invalid_utf8_in_a_query_string_is_read_leniently(
    web: httpx.AsyncClient,
) -> None:
    """Percent-escapes that are not UTF-8 (here a UTF-8-encoded lone surrogate) decode to
    U+FFFD, which is ordinary text: each parameter then gets its usual answer, never a 500."""
    surrogate = "%ED%A0%80"
    response = await web.get(f"/comment-image-chats/demo?urlId=img-1&sso={surrogate}")
    _failed(response, 401, "sso-invalid")
    response = await web.get(f"/comment-image-chats/demo?urlId=img-1&anonUserId={surrogate}")
    _failed(response, 400, "invalid-id")
    response = await web.get(f"/comment-image-chats/demo?urlId={surrogate}")
    assert response.status_code == 200, response.text
    assert response.json()["urlIdClean"] == "\ufffd" * 3

ODD_REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/comment-image-chats/demo?urlId=" + "a" * 1001, None),
    ("GET", "/comments/demo?urlId=c&count=abc", None),
    ("GET", "/events/demo?urlId=img-1&since=abc", None),
    ("GET", "/event-log/demo?urlId=img-1&startTime=" + "9" * 30 + "&endTime=1", None),
    ("DELETE", "/comments/demo/" + "a" * 200, None),
    ("POST", "/comments/demo/0123456789abcdef01234567/vote", {"voteDir": ["up"]}),
    ("POST", "/comments/demo", {"comment": 5, "urlId": "c"}),
    ("POST", "/comments/demo", {"comment": "c", "commenterName": "A", "urlId": "c",
                                "parentId": 5}),
    ("POST", "/comment-image-chats/demo", _conversation(sso=5)),
    ("POST", "/comment-image-chats/demo", _conversation(pageTitle="t" * 301)),
    ("POST", "/comment-image-chats/demo", _conversation(commenterName="n" * 101)),
    ("POST", "/comment-image-chats/demo", b'{"urlId":"i","x":1' + b"0" * 400 + b',"y":1}'),
    ("POST", "/comment-image-chats/demo", b"[" * 60000),
    ("POST", "/comment-image-chats/demo", b'{"urlId":"\xff\xfe","x":1,"y":1}'),
    ("GET", "/api/v1/usage?tenantId=demo&from=abc", None),
]


@pytest.mark.parametrize(("method", "url", "payload"), ODD_REQUESTS)
async def test_odd_input_is_a_client_error(
    web: httpx.AsyncClient, method: str, url: str, payload: Any
) -> None:
    if isinstance(payload, bytes):
        response = await web.request(method, url, content=payload, headers=HEADERS)
    else:
        response = await web.request(method, url, json=payload)
    assert 400 <= response.status_code < 500, response.text
    _failed(response, response.status_code)
    assert await _state(web) == (0, [])
