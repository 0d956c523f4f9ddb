"""Which pages may talk to a tenant: its allowed origins, and the server's own pages."""

from __future__ import annotations

import pytest

from imagechat.auth.origins import origin_allowed, same_host
from imagechat.domain.models import Tenant


def tenant(*origins: str) -> Tenant:
    return Tenant(id="t1", name="Blog", api_secret="s", allow_anonymous=True,
                  allow_simple_sso=False, allowed_origins=origins, created_at=0)


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


@pytest.mark.parametrize("origin", ["https://a.example", "http://evil.test", "null"])
def test_no_allowed_origins_means_any(origin: str) -> None:
    assert origin_allowed(tenant(), origin)


def test_star_allows_any_origin() -> None:
    assert origin_allowed(tenant("https://a.example", "*"), "http://evil.test")


@pytest.mark.parametrize("origin", ["https://blog.example.com", "https://blog.example.com/"])
def test_exact_match_with_or_without_trailing_slash(origin: str) -> None:
    assert origin_allowed(tenant("https://other.example", "https://blog.example.com"), origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://blog.example.com",  # another scheme is another origin
        "https://blog.example.com:8443",  # and so is another port
        "https://blog.example.com.evil.test",
        "https://sub.blog.example.com",
        "null",
        "",
    ],
)
def test_other_origins_are_refused(origin: str) -> None:
    assert not origin_allowed(tenant("https://blog.example.com"), origin)
