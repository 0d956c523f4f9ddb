"""Fetching an image a site points at, safely (docs/data-model.md, "Fetching images").

- Only from the site's own origins: an image's origin (scheme, host and port) must be one
  of the tenant's allowed origins; a tenant that lists none (or `*`) accepts any host.
- Through the guarded client (outbound/client.py): no private, loopback or link-local
  address unless IMAGECHAT_OUTBOUND_ALLOW_PRIVATE=true, checked after DNS resolution.
- Redirects are followed only within the same origin, at most `MAX_REDIRECTS` times.
- Bounded: bytes (413), one deadline for the whole fetch, redirects included (504), a
  Content-Type that may announce an image (415). What the bytes are is judged after
  (imaging/formats.py: type 415, pixels 422).

Each refusal is a domain error with its own code, so the API says exactly what was wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from imagechat.domain.errors import (
    BadGateway,
    BadInput,
    Forbidden,
    GatewayTimeout,
    TooLarge,
    UnsupportedMedia,
)
from imagechat.imaging.formats import media_type_allowed
from imagechat.outbound.addresses import RefusedTarget
from imagechat.outbound.client import OutboundError, request

# A CDN may send an image through one or two redirects of its own.
MAX_REDIRECTS = 3
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class FetchLimits:
    allow_private: bool
    max_bytes: int
    timeout_secs: float


@dataclass(frozen=True, slots=True)
class Fetched:
    # None: the image did not change since `etag` / `last_modified` (304).
    body: bytes | None
    etag: str | None
    last_modified: str | None


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute http(s) URL (default ports left out), or 400
    `image-src-invalid`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadInput("The image address is not a valid URL.", "image-src-invalid") from None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise BadInput("The image address must be an absolute http:// or https:// URL.",
                       "image-src-invalid")
    if parts.username is not None or parts.password is not None:
        raise BadInput("The image address must not carry a user name or password.",
                       "image-src-invalid")
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def absolute_src(src: str, page_url: str | None) -> str:
    """An image address as the server fetches it: relative ones against the page."""
    if page_url and not urlsplit(src).scheme:
        return urljoin(page_url, src)
    return src


def require_allowed_origin(allowed_origins: tuple[str, ...], url: str) -> None:
    if not allowed_origins or "*" in allowed_origins:
        origin_of(url)
        return
    wanted = origin_of(url)
    allowed = {origin_of(o.strip().rstrip("/")) for o in allowed_origins
               if urlsplit(o.strip()).scheme in _SCHEMES}
    if wanted not in allowed:
        raise Forbidden(f"Images are fetched only from the site's own origins; {wanted} is "
                        "not one of them.", "image-origin-not-allowed")


async def fetch_image(
    url: str, *, allowed_origins: tuple[str, ...], limits: FetchLimits,
    etag: str | None = None, last_modified: str | None = None,
) -> Fetched:
    require_allowed_origin(allowed_origins, url)
    origin = origin_of(url)
    headers = {"Accept": "image/png,image/jpeg,image/webp,image/gif;q=0.9,*/*;q=0.1",
               "User-Agent": "ImageChat (image versions)"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + limits.timeout_secs
    for _ in range(MAX_REDIRECTS + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            answer = await request("GET", url, allow_private=limits.allow_private,
                                   timeout_secs=left, max_bytes=limits.max_bytes,
                                   headers=headers)
        except RefusedTarget as exc:
            raise Forbidden(exc.reason, "image-target-refused") from None
        except OutboundError as exc:
            if exc.timed_out:
                raise GatewayTimeout(f"The image host did not answer in time ({exc.reason}).",
                                     "image-fetch-timeout") from None
            raise BadGateway(f"The image could not be fetched: {exc.reason}",
                             "image-fetch-failed") from None
        if answer.status in (301, 302, 303, 307, 308):
            location = answer.headers.get("location")
            if not location:
                raise BadGateway("The image host redirected without saying where.",
                                 "image-fetch-failed")
            url = urljoin(url, location)
            if origin_of(url) != origin:
                raise Forbidden("The image host redirected to another origin; images are "
                                "fetched only from the address's own origin.",
                                "image-redirect-refused")
            continue
        if answer.status == 304 and (etag or last_modified):
            return Fetched(body=None, etag=etag, last_modified=last_modified)
        if answer.status != 200:
            raise BadGateway(f"The image host answered {answer.status}.", "image-fetch-failed")
        if not media_type_allowed(answer.headers.get("content-type")):
            raise UnsupportedMedia(
                f"The address serves {answer.headers.get('content-type')}, not an image.",
                "image-type-unsupported")
        if answer.truncated:
            raise TooLarge(f"The image is larger than {limits.max_bytes:,} bytes.",
                           "image-too-large")
        return Fetched(body=answer.body, etag=answer.headers.get("etag"),
                       last_modified=answer.headers.get("last-modified"))
    if time.monotonic() >= deadline:
        raise GatewayTimeout("The image host did not answer in time.", "image-fetch-timeout")
    raise BadGateway(f"The image host redirected more than {MAX_REDIRECTS} times.",
                     "image-fetch-failed")


__all__ = ["FetchLimits", "Fetched", "absolute_src", "fetch_image", "origin_of",
           "require_allowed_origin"]
