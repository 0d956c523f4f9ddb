"""Static assets served from memory: compressed once, negotiated, validated, cached.

Each asset is read (or built) once, then kept with its gzip and brotli forms, which are
made the first time it is asked for and only when they are smaller. A request gets the
best form its `Accept-Encoding` allows (brotli, then gzip, then none), an `ETag` for that
form, `Vary: Accept-Encoding`, and the cache policy its route chooses; `If-None-Match` with
the tag of any form of the same bytes answers 304. `HEAD` gets the same headers and no body.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cached_property

import brotli
from fastapi import Request
from fastapi.responses import Response

# Browsers and proxies may keep an asset at a plain URL for an hour: a new release is
# picked up within that. At a URL that names the version the bytes never change.
SHORT_CACHE = "public, max-age=3600"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
# Smaller bodies gain nothing worth a header from compression.
MIN_COMPRESS_BYTES = 512
# Brotli's best quality takes about a second per 300 KB: the widget gets it, the API
# documentation's megabyte bundles a quicker one (made once, on the first request).
BROTLI_BEST_UP_TO_BYTES = 256 * 1024
BROTLI_QUICK_QUALITY = 6
_ENCODINGS = ("br", "gzip")


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    compressible: bool = True

    @cached_property
    def tag(self) -> str:
        """The bytes' digest: each form's ETag is this with the form's name."""
        return hashlib.sha256(self.body).hexdigest()[:32]

    @cached_property
    def forms(self) -> dict[str, bytes]:
        """The compressed forms worth sending, by content coding."""
        if not self.compressible or len(self.body) < MIN_COMPRESS_BYTES:
            return {}
        quality = 11 if len(self.body) <= BROTLI_BEST_UP_TO_BYTES else BROTLI_QUICK_QUALITY
        made = {"br": brotli.compress(self.body, quality=quality),
                "gzip": gzip.compress(self.body, compresslevel=9, mtime=0)}
        return {name: data for name, data in made.items() if len(data) < len(self.body)}


def accepted(header: str) -> set[str]:
    """The content codings an `Accept-Encoding` header accepts (q > 0)."""
    found: set[str] = set()
    refused: set[str] = set()
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        (found if quality > 0 else refused).add(name)
    if "*" in found:
        found |= set(_ENCODINGS) - refused
    return found


def _matches(if_none_match: str, tag: str) -> bool:
    for candidate in if_none_match.split(","):
        candidate = candidate.strip().removeprefix("W/").strip('"')
        if candidate == "*" or candidate.split("-", 1)[0] == tag:
            return True
    return False


def respond(request: Request, asset: Asset, cache_control: str = SHORT_CACHE,
            extra_headers: dict[str, str] | None = None) -> Response:
    coding = next((name for name in _ENCODINGS if name in asset.forms
                   and name in accepted(request.headers.get("accept-encoding", ""))), None)
    body = asset.forms[coding] if coding else asset.body
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff",
               "ETag": f'"{asset.tag}-{coding}"' if coding else f'"{asset.tag}"',
               **(extra_headers or {})}
    if asset.forms:
        headers["Vary"] = "Accept-Encoding"
    if _matches(request.headers.get("if-none-match", ""), asset.tag):
        return Response(status_code=304, headers=headers)
    if coding:
        headers["Content-Encoding"] = coding
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(headers=headers, media_type=asset.media_type)
    return Response(body, headers=headers, media_type=asset.media_type)
