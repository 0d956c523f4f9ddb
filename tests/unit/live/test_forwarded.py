"""A live client's address behind proxies: X-Forwarded-For counts only from trusted peers."""

from __future__ import annotations

from types import SimpleNamespace

from imagechat.live.forwarded import client_address, trusted_proxies, trusted_proxies_of

LOOPBACK = trusted_proxies("127.0.0.1,::1")


def test_without_a_trusted_peer_the_header_is_ignored() -> None:
    assert client_address("198.51.100.9", "10.0.0.1", LOOPBACK) == "198.51.100.9"
    assert client_address("127.0.0.1", "10.0.0.1", None) == "127.0.0.1"
    assert client_address("127.0.0.1", None, LOOPBACK) == "127.0.0.1"


def test_a_trusted_proxy_names_the_client() -> None:
    assert client_address("127.0.0.1", "203.0.113.7", LOOPBACK) == "203.0.113.7"
    assert client_address("::1", "203.0.113.7:5123", LOOPBACK) == "203.0.113.7"
    assert client_address("127.0.0.1", "[2001:db8::5]:443", LOOPBACK) == "2001:db8::5"


def test_the_nearest_untrusted_address_wins_over_what_the_client_claims() -> None:
    proxies = trusted_proxies("127.0.0.1, 10.0.0.0/8")
    # The client wrote "1.2.3.4" itself; 203.0.113.7 is what our own proxies saw.
    header = "1.2.3.4, 203.0.113.7, 10.1.2.3"
    assert client_address("127.0.0.1", header, proxies) == "203.0.113.7"
    # Every hop is a trusted proxy: the first one is the client.
    assert client_address("127.0.0.1", "10.9.9.9, 10.1.2.3", proxies) == "10.9.9.9"


def test_star_trusts_everyone_and_takes_the_first_address() -> None:
    everyone = trusted_proxies("*")
    assert client_address("198.51.100.9", "1.2.3.4, 5.6.7.8", everyone) == "1.2.3.4"


def test_the_uvicorn_config_decides() -> None:
    config = SimpleNamespace(proxy_headers=True, forwarded_allow_ips=["127.0.0.1", "10.0.0.0/8"])
    trusted = trusted_proxies_of(config)
    assert trusted is not None
    assert trusted.trusts("10.4.5.6") and trusted.trusts("127.0.0.1")
    assert not trusted.trusts("192.0.2.1")
    assert trusted_proxies_of(SimpleNamespace(proxy_headers=False,
                                              forwarded_allow_ips="*")) is None
    assert trusted_proxies_of(None) is None


def test_names_that_are_not_addresses_are_compared_as_text() -> None:
    proxies = trusted_proxies("unix:/run/proxy.sock, not-an-address/99")
    assert proxies.trusts("unix:/run/proxy.sock")
    assert not proxies.trusts("127.0.0.1")
