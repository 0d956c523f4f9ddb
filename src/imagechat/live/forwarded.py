"""A live client's address behind reverse proxies, by the rule uvicorn applies to HTTP.

uvicorn takes an HTTP request's client address from `X-Forwarded-For` when the peer is a
trusted proxy (`FORWARDED_ALLOW_IPS`, by default the loopback addresses): the nearest
address in the list that is not itself a trusted proxy. Live connections are served by our
own protocol, past uvicorn's middleware, so the same rule is applied here; without it every
connection through a proxy would share the proxy's address, and its limits.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    everyone: bool = False
    addresses: frozenset[IPAddress] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    names: frozenset[str] = frozenset()  # e.g. a unix socket path

    def trusts(self, host: str) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.names
        return address in self.addresses or any(address in n for n in self.networks)


@functools.lru_cache(maxsize=8)
def trusted_proxies(spec: str) -> TrustedProxies:
    """Parse a FORWARDED_ALLOW_IPS value: addresses, networks, or `*`, comma-separated."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if "*" in items:
        return TrustedProxies(everyone=True)
    addresses: set[IPAddress] = set()
    networks: list[IPNetwork] = []
    names: set[str] = set()
    for item in items:
        try:
            if "/" in item:
                networks.append(ipaddress.ip_network(item, strict=False))
            else:
                addresses.add(ipaddress.ip_address(item))
        except ValueError:
            names.add(item)
    return TrustedProxies(False, frozenset(addresses), tuple(networks), frozenset(names))


def trusted_proxies_of(config: Any) -> TrustedProxies | None:
    """The proxies uvicorn's config trusts, or None when it ignores proxy headers."""
    if config is None or not getattr(config, "proxy_headers", False):
        return None
    spec = getattr(config, "forwarded_allow_ips", None) or ""
    return trusted_proxies(spec if isinstance(spec, str) else ",".join(spec))


def client_address(peer: str, forwarded_for: str | None,
                   trusted: TrustedProxies | None) -> str:
    if trusted is None or not forwarded_for or not trusted.trusts(peer):
        return peer
    hosts = [_host(entry) for entry in forwarded_for.split(",")]
    if not trusted.everyone:
        # Each proxy appends the address it received from: read from the right.
        for host in reversed(hosts):
            if host and not trusted.trusts(host):
                return host
    return hosts[0] or peer


def _host(entry: str) -> str:
    """`203.0.113.7`, `203.0.113.7:5000`, `[2001:db8::1]:5000` -> the address alone."""
    entry = entry.strip()
    if entry.startswith("["):
        end = entry.find("]")
        return entry[1:end] if end > 0 else entry
    if entry.count(":") == 1:
        return entry.partition(":")[0]
    return entry
