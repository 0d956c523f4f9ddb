"""The opening handshake (RFC 6455 §4.2), sans-I/O."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# uvicorn has parsed and bounded the request already; this guards direct use.
MAX_HANDSHAKE_BYTES = 16 * 1024


class HandshakeError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    key: str


def find_end(buffer: bytes | bytearray) -> int:
    """Index just past the blank line that ends the request head, or -1."""
    end = buffer.find(b"\r\n\r\n")
    return -1 if end < 0 else end + 4


def parse_request(head: bytes) -> Request:
    try:
        text = head.decode("latin-1")
        request_line, *header_lines = text.split("\r\n")
        method, target, _version = request_line.split(" ", 2)
    except ValueError:
        raise HandshakeError(400, "Malformed request line.") from None
    if method != "GET":
        raise HandshakeError(405, "WebSocket handshakes use GET.")
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError(400, "Malformed header line.")
        headers[name.strip().lower()] = value.strip()
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeError(400, "Missing `Upgrade: websocket`.")
    if headers.get("sec-websocket-version") != "13":
        raise HandshakeError(426, "Only WebSocket version 13 is supported.")
    key = headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise HandshakeError(400, "Invalid Sec-WebSocket-Key.") from None
    url = urlsplit(target)
    # The query is form data: `+` is a space, as the reference clients encode it.
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    return Request(path=url.path, params=params, headers=headers, key=key)


def accept_response(key: str) -> bytes:
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


def error_response(status: int, reason: str) -> bytes:
    phrases = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
               426: "Upgrade Required"}
    body = reason.encode()
    return (
        f"HTTP/1.1 {status} {phrases.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + ("Sec-WebSocket-Version: 13\r\n" if status == 426 else "")
        + "\r\n"
    ).encode() + body
