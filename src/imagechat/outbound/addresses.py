"""Which network addresses an outbound request may reach.

A site's admin chooses the URLs the server calls (webhook endpoints, image addresses). Left
unchecked, that would let them probe the operator's private network: the database, Redis,
cloud metadata at 169.254.169.254. So by default every address that is not public is
refused, checked after DNS resolution (a name may resolve to 127.0.0.1) and again at send
time (a name may resolve differently later); the request then goes to the address that was
checked. `IMAGECHAT_OUTBOUND_ALLOW_PRIVATE=true` lifts this, for tests and internal networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from imagechat.domain.errors import Forbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(Forbidden):
    code = "target-refused"


@dataclass(frozen=True, slots=True)
class Target:
    """A URL split into what a pinned request needs."""

    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target:
    """An http(s) URL with a host, or RefusedTarget saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedTarget(f"{url[:200]!r} is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget("Only http:// and https:// addresses can be called.")
    if not parts.hostname:
        raise RefusedTarget("The address has no host.")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("The address must not carry a user name or password.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=parts.hostname.lower(),
                  port=port or (443 if parts.scheme == "https" else 80), path=path)


def is_public(address: IPAddress) -> bool:
    """Routable on the internet: not loopback, private, link-local, shared (CGNAT),
    multicast, reserved or unspecified; IPv4 inside IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if mapped is not None:
            return is_public(mapped)
    return address.is_global and not address.is_multicast


async def resolve(target: Target, *, allow_private: bool) -> IPAddress:
    """The address to connect to: every address the host resolves to must be public
    (unless private ones are allowed), so that no answer of the DNS can lead inside."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise RefusedTarget(f"The host {target.host!r} could not be resolved.") from None
        found = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not found:
            raise RefusedTarget(f"The host {target.host!r} has no address.")
    if not allow_private:
        for address in found:
            if not is_public(address):
                raise RefusedTarget(
                    f"{target.host!r} is {address}, a private or local address; set "
                    "IMAGECHAT_OUTBOUND_ALLOW_PRIVATE=true to allow such targets.")
    return found[0]
