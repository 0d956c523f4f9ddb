"""TLS: with a certificate and key, the same port serves HTTPS and WSS, and syncs over it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import trustme
from websockets.asyncio.client import connect

from imagechat.app import create_app, server_options
from imagechat.settings import Settings
from tests.live_server import serve


@pytest.fixture
def certificate(tmp_path: Path) -> Iterator[tuple[trustme.CA, Path, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    yield ca, cert_path, key_path


async def test_https_and_wss_on_one_port(
    certificate: tuple[trustme.CA, Path, Path], sqlite_url: str
) -> None:
    ca, cert_path, key_path = certificate
    settings = Settings(database_url=sqlite_url, tls_cert=str(cert_path),
                        tls_key=str(key_path))
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    app = create_app(settings)
    async with serve(app, settings) as address, httpx.AsyncClient(
        base_url=f"https://{address}", verify=client_context
    ) as https:
        assert (await https.get("/healthz")).status_code == 200
        url = f"wss://{address}/sub?urlId=img-1&tenantIdWS=demo"
        async with connect(url, ssl=client_context) as wss:
            created = await https.post("/comment-image-chats/demo", json={
                "urlId": "img-1", "x": 5, "y": 5, "comment": "over TLS", "commenterName": "T"})
            assert created.status_code == 200
            event = orjson.loads(await wss.recv())
            while event["type"] == "p-u":
                event = orjson.loads(await wss.recv())
            assert event["type"] == "new-image-chat"
            assert event["chat"]["_id"] == created.json()["createdChatId"]
    # Plain HTTP is not answered on a TLS port.
    async with serve(app, settings) as address, httpx.AsyncClient() as plain:
        with pytest.raises(httpx.HTTPError):
            await plain.get(f"http://{address}/healthz")


def test_a_certificate_without_a_key_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="both a certificate"):
        server_options(Settings(database_url=sqlite_url, tls_cert="/x/cert.pem"))
