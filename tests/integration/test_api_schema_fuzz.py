"""The HTTP API against its own OpenAPI document, with generated requests (schemathesis).

Every operation in the document the server serves gets a bounded number of generated
requests, valid and invalid ones (schemathesis' coverage cases, then Hypothesis examples),
sent in process to an app over a temporary SQLite file. Each response must:
- not be a server error (5xx);
- have a status the document lists for that operation;
- have the documented content type and match the documented body schema.

Two passes. The first sends whatever the generator makes; tenant ids are then mostly
unknown, so it mainly exercises input checks and the 404s. The second puts a real tenant
(anonymous writes and Simple SSO allowed) into every `tenantId`, sends that tenant's API
secret to /api/v1, and swaps about half of the generated object ids and urlIds for ones
that exist, so bodies and ids meet real data: lists with items, edits, votes, deletes.

Generation is derandomized: CI runs the same requests every time. For a deeper run by
hand, raise the number of generated cases per operation with IMAGECHAT_FUZZ_EXAMPLES.

Not fuzzed: the routes left out of the document (the widget's JS/CSS, the demo page and
its image, the `/` redirect, and the trailing-slash alias of /event-log) serve fixed files
or redirects and take no input; /sub is a WebSocket (tests/integration/test_live_fuzz.py).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass, field

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from imagechat.app import create_app
from imagechat.domain.actor import Actor
from imagechat.domain.errors import NotFound
from imagechat.domain.ids import new_id
from imagechat.domain.models import WebhookEndpoint
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.container import Services
from imagechat.services.image_chats import NewImageChatInput
from imagechat.settings import Settings
from imagechat.store import outbox, webhooks
from tests.helpers import services

TENANT = "fuzz-tenant"
SECRET = "fuzz-tenant-api-secret"
IMAGE = "example.com/fuzzed.png"
EXAMPLES = int(os.environ.get("IMAGECHAT_FUZZ_EXAMPLES", "30"))
# The fuzzed tenant's webhook endpoint: loopback, so every delivery to it is refused before
# any connection is made.
HOOK_URL = "http://127.0.0.1:9/fuzz"

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

# The document exactly as the server serves it at /openapi.json (see
# test_the_fuzzed_document_is_the_served_one). Building it needs no database.
DOCUMENT = create_app(Settings(database_url="sqlite+aiosqlite:///unused.db")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One app and database for the whole file. Schemathesis runs its lifespan around each
    operation's test (schemathesis.python.asgi), so the app is handed over unstarted."""
    path = tmp_path_factory.mktemp("fuzz") / "imagechat.db"
    # Write limits off: thousands of generated writes come from one client, and a 429 for
    # most of them would keep the generator away from the code behind the limit
    # (test_rate_limits.py covers 429 itself).
    return create_app(Settings(database_url=f"sqlite+aiosqlite:///{path}",
                               rate_limit_writes_per_visitor=0, rate_limit_writes_per_tenant=0))


# Body fields that `RealData.aim` also adds when the generator left them out.
BODY_FILLS = {"commenterName", "urlId", "editKey"}
VISITOR = "anon-fuzz"


@dataclass
class RealData:
    """Values that name existing things of TENANT, by parameter or body field name."""

    pools: dict[str, tuple[str, ...]]
    _turns: dict[str, itertools.count[int]] = field(default_factory=dict)

    def pick(self, name: str) -> str | None:
        """Every other call for a name gives a value from its pool. Taking turns rather than
        looking at the generated value, because the generator repeats small values such as
        "0" a lot; cases come in a fixed order, so every run sends the same requests. Pools
        of the same length are aligned (commentId i and editKey i belong together), and
        names present in the same case usually take the same turn."""
        turn = next(self._turns.setdefault(name, itertools.count()))
        pool = self.pools[name]
        return pool[turn // 2 % len(pool)] if turn % 2 == 0 else None

    def aim(self, case: schemathesis.Case) -> None:
        """Put real ids, urlIds, edit keys and names into about half the places that take
        them, the tenant into every `tenantId`, the API secret into every /api/v1 call."""
        body = case.body if isinstance(case.body, dict) else {}
        for values in (case.path_parameters, case.query, body):
            if not isinstance(values, dict):
                continue
            for name in self.pools:
                present = isinstance(values.get(name), str)
                # Bodies also get the fields they left out (commenterName is needed to
                # comment anonymously, though the schema cannot say so).
                if present or (values is body and name in BODY_FILLS):
                    real = self.pick(name)
                    if real is not None:
                        values[name] = real
        if case.path_parameters is not None and "tenantId" in case.path_parameters:
            case.path_parameters["tenantId"] = TENANT
        if case.path.startswith("/api/v1/"):
            # The backend API names its tenant in the query string, the secret in a header.
            case.query = {**(case.query or {}), "tenantId": TENANT}
            case.headers = {**(case.headers or {}), "x-api-key": SECRET}
        if case.path == "/api/v1/webhooks" and isinstance(case.body, dict):
            # Never a generated address: adding one would resolve its name. This one is
            # refused without a lookup (a loopback literal), as is sending to it.
            case.body["url"] = HOOK_URL


async def _seed(app: FastAPI) -> RealData:
    """Fresh markers, comments and a vote, so that earlier deletes leave something to find."""
    async with app.router.lifespan_context(app):
        found = services(app)
        try:
            tenant = await found.tenants.get(TENANT)
        except NotFound:
            tenant = await found.tenants.create(
                "Fuzz", tenant_id=TENANT, api_secret=SECRET, allow_simple_sso=True)
        visitor = Actor(tenant_id=TENANT, anon_user_id=VISITOR)
        # Earlier generated requests may have locked the image or banned the visitor (the
        # generator holds the API secret): lift both, as the site's backend.
        backend = Actor(tenant_id=TENANT, is_backend=True)
        await found.moderation.set_locked(tenant, backend, IMAGE, False)
        for ban in await found.moderation.list_bans(tenant):
            await found.moderation.unban(tenant, backend, user_id=ban.user_id,
                                         anon_user_id=ban.anon_user_id)
        hook = await _hook(found)
        url_ids, conversation_ids, comment_ids, edit_keys = [IMAGE], [], [], []
        for n in range(2):
            created = await found.image_chats.create(
                tenant, visitor,
                NewImageChatInput(url_id=IMAGE, x=10 * n, y=50,
                                  first_comment=CommentDraft(text=f"first {n}",
                                                             commenter_name="Ann")),
                None,
            )
            assert created.comment is not None and created.edit_key is not None
            conversation_ids.append(created.conversation.id)
            url_ids.append(created.conversation.window_url_id)
            comment_ids.append(created.comment.id)
            edit_keys.append(created.edit_key)
            reply = await found.comments.post(
                tenant, visitor, created.conversation.window_url_id,
                CommentDraft(text="a reply", commenter_name="Bob"), None)
            assert reply.edit_key is not None
            comment_ids.append(reply.comment.id)
            edit_keys.append(reply.edit_key)
        cast = await found.votes.vote(tenant, visitor, comment_ids[0], "up", None)
        async with found.db.read() as conn:
            made = await outbox.recent(conn, TENANT, kind="webhook", target=hook, limit=2)
    return RealData({
        "webhookId": (hook,), "deliveryId": tuple(d.id for d in made),
        "chatId": tuple(conversation_ids), "commentId": tuple(comment_ids),
        "parentId": tuple(comment_ids),
        # The reference's name for a comment's id in /api/v1/comments/{id}.
        "id": tuple(comment_ids), "createdFromCommentId": tuple(comment_ids),
        "voteId": (cast.vote.id,), "urlId": tuple(url_ids), "editKey": tuple(edit_keys),
        "anonUserId": (VISITOR,), "commenterName": ("Fuzz",),
    })


async def _hook(found: Services) -> str:
    """The tenant's webhook endpoint (written straight to the store: the API refuses it)."""
    async with found.db.write() as conn:
        existing = await webhooks.of_tenant(conn, TENANT)
        if existing:
            return existing[0].id
        endpoint = WebhookEndpoint(
            id=new_id(), tenant_id=TENANT, url=HOOK_URL, events=(), secret="fuzz",
            created_at=found.clock.now_ms(), failing_since=None, disabled_at=None,
            disabled_reason="")
        await webhooks.add(conn, endpoint)
        return endpoint.id


@pytest.fixture
def real_data(fuzz_app: FastAPI) -> RealData:
    return asyncio.run(_seed(fuzz_app))


@schema.parametrize()
@FUZZ_SETTINGS
def test_generated_requests(case: schemathesis.Case, fuzz_app: FastAPI) -> None:
    case.call_and_validate(checks=CHECKS, app=fuzz_app)


@schema.parametrize()
@FUZZ_SETTINGS
def test_generated_requests_on_real_data(
    case: schemathesis.Case, fuzz_app: FastAPI, real_data: RealData
) -> None:
    real_data.aim(case)
    case.call_and_validate(checks=CHECKS, app=fuzz_app)


async def test_the_fuzzed_document_is_the_served_one(fuzz_app: FastAPI) -> None:
    """What is fuzzed above is what clients download, and the API's operations are in it."""
    transport = httpx.ASGITransport(app=fuzz_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == DOCUMENT
    operations = {f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items()
                  for method in item}
    assert {"POST /comment-image-chats/{tenantId}", "DELETE /api/v1/comments/{id}",
            "GET /api/v1/pages", "GET /events/{tenantId}"} <= operations


def test_every_failure_is_documented_with_the_error_shape() -> None:
    """The document lists the statuses the server really sends: failures as the one
    `{status, reason, code}` shape, and no FastAPI 422 (validation errors are a 400).
    /readyz's 503 is the one other shape: the state of each dependency, for operators."""
    error_ref = "#/components/schemas/ErrorBody"
    other_shapes = {("/readyz", "503"): "#/components/schemas/NotReady"}
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert "422" not in statuses, (method, path)
            assert "413" in statuses, (method, path)
            for status in {s for s in statuses if not s.startswith("2")}:
                content = operation["responses"][status]["content"]
                expected = other_shapes.get((path, status), error_ref)
                assert content["application/json"]["schema"] == {"$ref": expected}
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in statuses, (method, path)
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]
