from __future__ import annotations

import httpx

from tests.helpers import create_conversation


async def test_create_then_list(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    listing = (await client.get("/comment-image-chats/demo", params={"urlId": "img-1"})).json()
    assert [c["_id"] for c in listing["conversations"]] == [created["createdChatId"]]
    assert listing["seq"] == 2
