from __future__ import annotations

import ipaddress

import pytest

from imagechat.outbound.addresses import RefusedTarget, is_public, parse_target, resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "169.254.169.254", "10.1.2.3", "172.16.0.1",
    "192.168.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "fc00::1",
    "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:0001::1", "::",
    "192.0.2.10", "198.18.0.1",
])
def test_private_local_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888",
                                     "::ffff:8.8.8.8"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://example.com/x", "Only http"), ("file:///etc/passwd", "Only http"),
    ("https:///path", "no host"), ("http://user:pw@example.com/", "user name"),
    ("http://[::1", "not a valid URL"), ("http://example.com:99999/", "not a valid URL"),
])
def test_only_plain_http_urls_are_targets(url: str, why: str) -> None:
    with pytest.raises(RefusedTarget, match=why):
        parse_target(url)


def test_a_target_keeps_its_path_and_query() -> None:
    target = parse_target("https://Hooks.Example.com:8443/in/?a=1")
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in/?a=1")
    assert parse_target("http://example.com").path == "/"


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]:8080/",
                                 "http://169.254.169.254/latest/meta-data",
                                 "http://10.0.0.7/", "http://localhost:6379/"])
async def test_resolution_refuses_private_targets_unless_allowed(url: str) -> None:
    with pytest.raises(RefusedTarget, match="private or local"):
        await resolve(parse_target(url), allow_private=False)
    assert not is_public(await resolve(parse_target(url), allow_private=True))


async def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(RefusedTarget, match="could not be resolved"):
        await resolve(parse_target("http://no-such-host.invalid/"), allow_private=True)
