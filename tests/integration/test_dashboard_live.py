"""The dashboard's live figures: viewers now per image, and peak viewers per hour."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack

from tests.helpers import services
from tests.integration.conftest import Live
from tests.integration.dashboard_helpers import bars_of, sign_in, totals_of
from tests.live_server import LiveClient, live_client


async def _until_count(client: LiveClient, count: int) -> None:
    """Wait for a presence event saying `count` viewers watch the image."""
    while (await client.next_of("p-u"))["sc"] != count:
        pass


async def test_viewers_now_and_peak_viewers(live: Live) -> None:
    tenant = await services(live.app).tenants.create("Shop", tenant_id="shop")
    await services(live.app).tenants.create("Other", tenant_id="other")
    for url_id in ("img-1", "img-2"):
        response = await live.http.post("/comment-image-chats/shop", json={
            "urlId": url_id, "x": 1, "y": 1, "comment": "hi", "commenterName": "A"})
        assert response.status_code == 200
    await sign_in(live.http, "shop", tenant.api_secret)
    async with AsyncExitStack() as stack:
        watchers = [await stack.enter_async_context(
            live_client(live.address, urlId="img-1", tenantIdWS="shop")) for _ in range(3)]
        # Another tenant's viewers count for that tenant only.
        await stack.enter_async_context(live_client(live.address, urlId="img-1",
                                                    tenantIdWS="other"))
        await _until_count(watchers[0], 3)
        async with live_client(live.address, urlId="img-2", tenantIdWS="shop") as alone:
            await _until_count(alone, 1)
            page = (await live.http.get("/dashboard/images")).text
            assert _viewers(page) == {"img-1": 3, "img-2": 1}
        await watchers[0].ws.close()
        await _until_count(watchers[1], 2)
        page = (await live.http.get("/dashboard/images")).text
        assert _viewers(page) == {"img-1": 2, "img-2": 0}
        detail = (await live.http.get("/dashboard/images/view", params={"urlId": "img-1"})).text
        assert '<dd class="viewers">2</dd>' in detail

        # Four connections of this tenant were open at once (three on img-1, one on img-2);
        # the usage page writes this node's counters before reading them.
        usage = (await live.http.get("/dashboard/usage", params={"bucket": "hour"})).text
        assert totals_of(usage)["peakViewers"] == 4
        assert [v for _, v in bars_of(usage)["peakViewers"] if v] == [4]
        assert totals_of(usage)["pubSubMessageCount"] > 0
    api = (await live.http.get("/api/v1/usage", params={"tenantId": "shop"},
                               headers={"X-API-Key": tenant.api_secret})).json()["usage"]
    assert max(b["peakViewers"] for b in api) == 4


def _viewers(page: str) -> dict[str, int]:
    rows = re.findall(r'<tr data-url-id="([^"]+)">.*?class="num viewers">(\d+)<', page, re.S)
    return {url_id: int(count) for url_id, count in rows}
