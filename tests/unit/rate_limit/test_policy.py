"""The service's limits (writes, live connects) and who counts as one visitor."""

from __future__ import annotations

import pytest

from imagechat.domain.actor import Actor
from imagechat.domain.errors import RateLimited
from imagechat.rate_limit.base import Rate
from imagechat.rate_limit.policy import RateLimits, address_key, visitor_key
from tests.unit.rate_limit.clock import limiter

THREE_PER_MINUTE = Rate(3)  # one every 20 s, up to 3 at once


async def test_rate_limits_raise_with_the_wait_and_skip_limits_set_to_zero() -> None:
    memory, clock = limiter()
    limits = RateLimits(memory, writes_per_visitor=2, writes_per_tenant=0,
                        connects_per_visitor=0, connects_per_tenant=0)
    await limits.check_write("t1", "ip:10.0.0.1")
    await limits.check_write("t1", "ip:10.0.0.1")
    with pytest.raises(RateLimited) as raised:
        await limits.check_write("t1", "ip:10.0.0.1")
    assert raised.value.status == 429
    assert raised.value.code == "rate-limited"
    assert raised.value.retry_after_secs == 30
    assert "30 s" in raised.value.reason
    await limits.check_write("t2", "ip:10.0.0.1")  # visitors are counted per tenant
    await limits.check_write("t1", None)  # the tenant's backend: tenant limit only, off here
    for _ in range(100):
        await limits.check_connect("t1", "ip:10.0.0.1")  # both connect limits are off
    assert limits.limits_writes
    clock.now += 30
    await limits.check_write("t1", "ip:10.0.0.1")


async def test_writes_and_connects_are_counted_apart() -> None:
    memory, _clock = limiter()
    limits = RateLimits(memory, writes_per_visitor=1, connects_per_visitor=1)
    await limits.check_write("t1", "ip:10.0.0.1")
    await limits.check_connect("t1", "ip:10.0.0.1")
    with pytest.raises(RateLimited):
        await limits.check_connect("t1", "ip:10.0.0.1")


def test_signed_in_users_count_by_id_everyone_else_by_address() -> None:
    secure = Actor(tenant_id="t1", user_id="u-7", verified=True)
    simple = Actor(tenant_id="t1", user_id="simple:u-7", verified=False)
    anonymous = Actor(tenant_id="t1", anon_user_id="anon-1")
    assert visitor_key(secure, "10.0.0.1") == "u:u-7"
    assert visitor_key(simple, "10.0.0.1") == "ip:10.0.0.1"
    assert visitor_key(anonymous, "10.0.0.1") == "ip:10.0.0.1"
    assert visitor_key(None, None) == "ip:unknown"


def test_ipv6_addresses_count_by_their_64_network() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.5") == "192.0.2.5"
    assert address_key("192.0.2.5") == "192.0.2.5"
