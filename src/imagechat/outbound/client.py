"""One guarded outbound HTTP request: to the address that was checked, without following
redirects, within a time limit, reading at most a bounded answer."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
import time
from dataclasses import dataclass

import httpx

from imagechat.outbound.addresses import RefusedTarget, parse_target, resolve


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: httpx.Headers
    # At most `max_bytes` of the body; `truncated` says whether there was more.
    body: bytes
    truncated: bool
    elapsed_secs: float


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every request: building one (loading the CA bundle) costs ~50 ms
    of CPU, more than the request it would serve."""
    return httpx.create_ssl_context()


class OutboundError(Exception):
    """The request could not be made or answered: a reason a person can read."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


async def request(
    method: str, url: str, *, allow_private: bool, timeout_secs: float, max_bytes: int,
    headers: dict[str, str] | None = None, content: bytes | None = None,
) -> Answer:
    """Raises RefusedTarget for a URL that may not be called, OutboundError when the call
    fails or times out."""
    target = parse_target(url)
    address = await resolve(target, allow_private=allow_private)
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    pinned = f"{target.scheme}://{host}:{target.port}{target.path}"
    default_port = 443 if target.scheme == "https" else 80
    sent = {**(headers or {}),
            "Host": target.host if target.port == default_port else f"{target.host}:{target.port}"}
    started = time.monotonic()
    try:
        # The whole exchange has one deadline (httpx's timeouts are per read, and a slow
        # trickle of bytes would never trip them).
        async with asyncio.timeout(timeout_secs), httpx.AsyncClient(
                follow_redirects=False, trust_env=False, timeout=timeout_secs,
                verify=_tls()) as client, \
                client.stream(method, pinned, headers=sent, content=content,
                              extensions={"sni_hostname": target.host}) as response:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    truncated = True
                    del body[max_bytes:]
                    break
            return Answer(status=response.status_code, headers=response.headers,
                          body=bytes(body), truncated=truncated,
                          elapsed_secs=time.monotonic() - started)
    except (TimeoutError, httpx.TimeoutException):
        raise OutboundError(f"no answer within {timeout_secs:g} s", timed_out=True) from None
    except httpx.HTTPError as exc:
        raise OutboundError(f"the request failed: {type(exc).__name__}: {exc}"[:300]) from None


__all__ = ["Answer", "OutboundError", "RefusedTarget", "request"]
