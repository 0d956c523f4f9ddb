"""The server's own pages may open the live connection, whatever a tenant's origins."""

from __future__ import annotations

import pytest

from imagechat.auth.origins import same_host


@pytest.mark.parametrize(("origin", "host"), [
    ("https://chat.example.com", "chat.example.com"),
    ("http://127.0.0.1:8000", "127.0.0.1:8000"),
    ("https://Chat.Example.com", "chat.example.com"),
])
def test_the_servers_own_pages_may_connect(origin: str, host: str) -> None:
    """The demo and the dashboard are served by this server: same host."""
    assert same_host(origin, host)


@pytest.mark.parametrize(("origin", "host"), [
    ("https://evil.example", "chat.example.com"),
    ("https://chat.example.com:8443", "chat.example.com"),
    ("https://chat.example.com.evil.test", "chat.example.com"),
    ("null", "chat.example.com"),
    ("https://chat.example.com", None),
])
def test_only_the_exact_host_counts_as_the_servers_own(origin: str, host: str | None) -> None:
    assert not same_host(origin, host)
