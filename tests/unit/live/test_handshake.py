"""The opening handshake (RFC 6455 §4.2): what is accepted, what is refused and how."""

from __future__ import annotations

import base64
import hashlib

import pytest
from websockets.http11 import Response
from websockets.streams import StreamReader

from imagechat.live.handshake import (
    HandshakeError,
    Request,
    accept_response,
    error_response,
    find_end,
    parse_request,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


def head(
    target: str = "/sub?urlId=a&tenantIdWS=t",
    *,
    method: str = "GET",
    extra: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> bytes:
    headers = {
        "Host": "chat.example.com",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
        "Origin": "https://blog.example.com",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
    }
    headers.update(extra or {})
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k not in drop]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def status_of(data: bytes) -> int:
    with pytest.raises(HandshakeError) as info:
        parse_request(data)
    assert info.value.reason
    return info.value.status


def ws_response(data: bytes) -> Response:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Response.parse(reader.read_line, reader.read_exact, reader.read_to_eof)
    with pytest.raises(StopIteration) as done:
        next(parser)
    return done.value.value  # type: ignore[no-any-return]


# --- parsing -------------------------------------------------------------------------


def test_browser_like_request_parses() -> None:
    target = ("/sub?urlId=https%3A%2F%2Fblog.example.com%2Fpost%3Fimg%3D1"
              "&userIdWS=Ann+Lee&tenantIdWS=t1&since=&x=%E2%9C%93")
    request = parse_request(head(target))
    assert isinstance(request, Request)
    assert request.path == "/sub"
    assert request.params == {
        "urlId": "https://blog.example.com/post?img=1",
        "userIdWS": "Ann Lee",  # `+` is a space in form data
        "tenantIdWS": "t1",
        "since": "",  # blank values are kept
        "x": "✓",
    }
    assert request.key == KEY
    assert request.headers["origin"] == "https://blog.example.com"
    assert request.headers["sec-websocket-version"] == "13"
    assert all(name == name.lower() for name in request.headers)


def test_header_names_are_case_insensitive_and_values_trimmed() -> None:
    data = (
        "GET /sub HTTP/1.1\r\nHOST: h\r\nupgrade:   WebSocket  \r\nCONNECTION: upgrade\r\n"
        f"sec-websocket-key:{KEY}\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n"
    ).encode()
    request = parse_request(data)
    assert request.headers["upgrade"] == "WebSocket"
    assert request.key == KEY
    assert request.params == {}


def test_header_values_may_contain_colons() -> None:
    request = parse_request(head(extra={"Origin": "http://localhost:8080"}))
    assert request.headers["origin"] == "http://localhost:8080"


# --- accepting -----------------------------------------------------------------------


def test_accept_response_has_the_rfc_example_value() -> None:
    response = accept_response(KEY)
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response
    assert b"\r\nUpgrade: websocket\r\n" in response
    assert b"\r\nConnection: Upgrade\r\n" in response
    assert response.endswith(b"\r\n\r\n")
    assert find_end(response) == len(response)


def test_accept_response_is_valid_for_websockets() -> None:
    key = base64.b64encode(bytes(range(16))).decode()
    response = ws_response(accept_response(key))
    assert response.status_code == 101
    expected = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    assert response.headers["Sec-WebSocket-Accept"] == expected
    # No extension was negotiated even though the browser offered permessage-deflate.
    assert "Sec-WebSocket-Extensions" not in response.headers


# --- refusing ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "HEAD", "get"])
def test_methods_other_than_get_are_405(method: str) -> None:
    assert status_of(head(method=method)) == 405


def test_missing_upgrade_is_400() -> None:
    assert status_of(head(drop=("Upgrade",))) == 400


def test_upgrade_to_another_protocol_is_400() -> None:
    assert status_of(head(extra={"Upgrade": "h2c"})) == 400


@pytest.mark.parametrize("version", ["8", "12", "14", ""])
def test_wrong_version_is_426(version: str) -> None:
    assert status_of(head(extra={"Sec-WebSocket-Version": version})) == 426


def test_missing_version_is_426() -> None:
    assert status_of(head(drop=("Sec-WebSocket-Version",))) == 426


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not base64!",
        base64.b64encode(b"x" * 15).decode(),  # 15 bytes
        base64.b64encode(b"x" * 17).decode(),  # 17 bytes
        "dGhlIHNhbXBsZSBub25jZQ",  # padding missing
    ],
)
def test_bad_key_is_400(key: str) -> None:
    assert status_of(head(extra={"Sec-WebSocket-Key": key})) == 400


def test_missing_key_is_400() -> None:
    assert status_of(head(drop=("Sec-WebSocket-Key",))) == 400


@pytest.mark.parametrize(
    "data",
    [b"GET\r\n\r\n", b"GET /sub\r\nUpgrade: websocket\r\n\r\n", b"\r\n\r\n", b""],
)
def test_malformed_request_line_is_400(data: bytes) -> None:
    assert status_of(data) == 400


def test_malformed_header_line_is_400() -> None:
    data = head().replace(b"Host: chat.example.com", b"no colon here")
    assert status_of(data) == 400


# --- error responses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "phrase"),
    [(400, "Bad Request"), (404, "Not Found"), (405, "Method Not Allowed"),
     (426, "Upgrade Required")],
)
def test_error_response_is_a_complete_http_response(status: int, phrase: str) -> None:
    data = error_response(status, "Nope ✓")
    assert data.startswith(f"HTTP/1.1 {status} {phrase}\r\n".encode())
    response = ws_response(data)
    assert response.status_code == status
    assert response.body == "Nope ✓".encode()
    assert response.headers["Content-Length"] == str(len("Nope ✓".encode()))
    assert response.headers["Connection"] == "close"


def test_426_tells_the_client_which_version_to_use() -> None:
    assert ws_response(error_response(426, "v13")).headers["Sec-WebSocket-Version"] == "13"
    assert "Sec-WebSocket-Version" not in ws_response(error_response(400, "bad")).headers


# --- find_end ------------------------------------------------------------------------


def test_find_end() -> None:
    data = head()
    assert find_end(data) == len(data)
    assert find_end(data[:-1]) == -1
    assert find_end(b"") == -1
    assert find_end(bytearray(data + b"\x81\x80rest")) == len(data)
    assert find_end(b"GET / HTTP/1.1\r\n\r\nX\r\n\r\n") == len(b"GET / HTTP/1.1\r\n\r\n")
