"""AsgiConnection against the hub built in memory: ASGI messages in, ASGI messages out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from imagechat.live import asgi
from imagechat.live.asgi import LiveRoute, request_of
from imagechat.live.close_codes import CloseCode
from imagechat.live.frames import OP_PING, encode_frame, text_frame
from imagechat.live.hub import Hub
from imagechat.live.limits import LiveLimits
from tests.unit.live.hub_fakes import IMAGE, LIMITS, FakeBroker, FakeLog, build_hub, settle

Lab = tuple[Hub, FakeBroker, FakeLog]
QUERY = f"urlId={IMAGE}&tenantIdWS=t1&userIdWS=Ann+Lee".encode()


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    hub, broker, log = build_hub()
    yield hub, broker, log
    await hub.stop()


class Peer:
    """The server's side of ASGI: what the app is sent, what it sent."""

    def __init__(self, blocked: bool = False) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.blocked = asyncio.Event()  # set: every send after the accept waits forever
        if blocked:
            self.blocked.set()

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] != "websocket.accept" and self.blocked.is_set():
            await asyncio.Event().wait()
        self.sent.append(message)

    def texts(self) -> list[Any]:
        return [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]

    def closed_with(self) -> tuple[int, str] | None:
        for m in self.sent:
            if m["type"] == "websocket.close":
                return m["code"], m["reason"]
        return None


def scope(query: bytes = QUERY) -> dict[str, Any]:
    return {"type": "websocket", "path": "/sub", "query_string": query,
            "client": ("203.0.113.7", 5000),
            "headers": [(b"host", b"chat.example.com"), (b"Origin", b"https://a.example")]}


async def start(hub: Hub, peer: Peer, query: bytes = QUERY) -> asyncio.Task[None]:
    await peer.inbox.put({"type": "websocket.connect"})
    task = asyncio.create_task(LiveRoute(lambda: hub)(scope(query), peer.receive, peer.send))
    await settle(lambda: bool(peer.sent) or task.done())
    return task


def test_the_request_is_read_from_the_scope() -> None:
    request = request_of(scope())
    assert request.path == "/sub"
    assert request.params == {"urlId": IMAGE, "tenantIdWS": "t1", "userIdWS": "Ann Lee"}
    assert request.headers["origin"] == "https://a.example"


async def test_accepted_once_joined_then_events_arrive_as_text(lab: Lab) -> None:
    hub, broker, log = lab
    peer = Peer()
    task = await start(hub, peer)
    assert peer.sent[0] == {"type": "websocket.accept"}
    await broker.deliver(*log.commit(2))
    await settle(lambda: len(peer.texts()) == 2)
    assert [e["seq"] for e in peer.texts()] == [1, 2]
    await peer.inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 1)
    assert not hub.connections and not hub.per_address


async def test_a_refusal_is_an_accept_then_its_close_code(lab: Lab) -> None:
    hub, _, _ = lab
    peer = Peer()
    task = await start(hub, peer, b"urlId=img-1&tenantIdWS=nobody")
    await asyncio.wait_for(task, 1)
    assert [m["type"] for m in peer.sent] == ["websocket.accept", "websocket.close"]
    assert peer.closed_with() == (CloseCode.TENANT_NOT_FOUND, "No site with tenant id 'nobody'.")


@pytest.mark.parametrize(("message", "code"), [
    ({"bytes": b"\x00"}, CloseCode.UNSUPPORTED_DATA),
    ({"text": "x" * (LIMITS.max_message_bytes + 1)}, CloseCode.TOO_BIG),
    ({"text": '{"op":"explode"}'}, CloseCode.BAD_MESSAGE),
])
async def test_bad_messages_close_with_their_code(
    lab: Lab, message: dict[str, Any], code: int
) -> None:
    hub, _, _ = lab
    peer = Peer()
    task = await start(hub, peer)
    await peer.inbox.put({"type": "websocket.receive", **message})
    await asyncio.wait_for(task, 1)
    closed = peer.closed_with()
    assert closed is not None and closed[0] == code


async def test_pings_are_left_to_the_server_and_the_heartbeat_never_idles_it(lab: Lab) -> None:
    hub, _, _ = lab
    peer = Peer()
    task = await start(hub, peer)
    conn = next(iter(hub.connections))
    assert conn.write(encode_frame(OP_PING, b""))
    await asyncio.sleep(0.05)
    assert time.monotonic() - conn.last_received < 0.01  # never silent to the heartbeat
    assert [m["type"] for m in peer.sent] == ["websocket.accept"]
    await peer.inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 1)


async def test_a_client_that_reads_nothing_is_closed_as_slow_and_let_go(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asgi, "CLOSE_GRACE_SECS", 0.05)
    hub, _, _ = lab
    peer = Peer(blocked=True)
    task = await start(hub, peer)
    conn = next(iter(hub.connections))
    frame = text_frame(b'{"type":"p-u"}' + b" " * 1000)
    written = 0
    while conn.write(frame):
        written += 1
    assert written * len(frame) <= LiveLimits().max_send_buffer
    assert hub.stats["slow_consumer_disconnects"] == 1
    assert conn.closing and not hub.connections
    # The close cannot go out either: the call ends after the grace all the same.
    await asyncio.wait_for(task, 1)


async def test_the_frame_text_is_decoded_once_for_every_subscriber(lab: Lab) -> None:
    hub, _, _ = lab
    peers = [Peer(), Peer()]
    tasks = [await start(hub, peer) for peer in peers]
    conns = list(hub.connections)
    frame = text_frame(b'{"type":"x","seq":1}')
    for conn in conns:
        assert conn.write(frame)
    await settle(lambda: all(p.texts() for p in peers))
    assert peers[0].sent[-1]["text"] is peers[1].sent[-1]["text"]
    for peer in peers:
        await peer.inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(asyncio.gather(*tasks), 1)

