"""The `imagechat` command: serve, migrate, tenants, webhooks, imports. Calls services, never
http or ws."""

from __future__ import annotations

import asyncio
import logging
import logging.config
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from imagechat.domain.clock import SystemClock
from imagechat.domain.errors import BadInput, ImageChatError
from imagechat.domain.webhooks import EVENT_TYPES
from imagechat.services.container import Services, build_services
from imagechat.services.fastcomments_import import FastCommentsImport, ImportReport, read_rows
from imagechat.services.outbox import DeliveryWorker, OutboxPolicy
from imagechat.services.recorder import NullSink
from imagechat.settings import Settings
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade

app = typer.Typer(help="ImageChat: live conversations pinned to spots on images.",
                  no_args_is_help=True, add_completion=False)
tenant_app = typer.Typer(help="Manage tenants (sites).", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
webhook_app = typer.Typer(help="Manage a tenant's webhook endpoints.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
console = Console()

T = TypeVar("T")
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", envvar="IMAGECHAT_DATABASE_URL",
                 help="sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db"),
]


def _settings(database_url: str | None) -> Settings:
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings.database_url)
        try:
            await upgrade(db.writer, settings.database_url)
            return await work(build_services(
                db, SystemClock(), NullSink(),
                outbound_allow_private=settings.outbound_allow_private,
                outbox_lease_ms=OutboxPolicy.from_settings(settings).lease_ms))
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except ImageChatError as exc:
        console.print(f"[red]error:[/red] {exc.reason}")
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    database_url: DatabaseOption = None,
    redis_url: Annotated[str | None, typer.Option(
        "--redis-url", envvar="IMAGECHAT_REDIS_URL",
        help="redis://host:6379/0 to share live events between nodes.")] = None,
    tls_cert: Annotated[str | None, typer.Option(
        "--tls-cert", envvar="IMAGECHAT_TLS_CERT",
        help="PEM certificate chain: serve HTTPS and WSS.")] = None,
    tls_key: Annotated[str | None, typer.Option(
        "--tls-key", envvar="IMAGECHAT_TLS_KEY", help="PEM private key for --tls-cert.")] = None,
    log_json: Annotated[bool, typer.Option(
        "--log-json", help="Log one JSON object per line (also IMAGECHAT_LOG_JSON=true).")
    ] = False,
) -> None:
    """Run the server (REST API, live sync, widget, demo)."""
    from imagechat.app import create_app, server_options

    settings = _settings(database_url)
    updates: dict[str, object] = {}
    if host:
        updates["host"] = host
    if port:
        updates["port"] = port
    if redis_url is not None:
        updates["redis_url"] = redis_url
    if tls_cert:
        updates["tls_cert"] = tls_cert
    if tls_key:
        updates["tls_key"] = tls_key
    if log_json:
        updates["log_json"] = True
    settings = settings.model_copy(update=updates)
    try:
        options = server_options(settings)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    scheme = "https" if settings.tls_cert else "http"
    banner = (f"ImageChat on {scheme}://{settings.host}:{settings.port}/demo  "
              f"(API docs: /docs, database: {_safe_url(settings.database_url)})")
    if settings.log_json:
        # Every line of output is then a JSON log record, the greeting included.
        logging.config.dictConfig(options["log_config"])
        logging.getLogger("imagechat").info(banner)
    else:
        console.print(banner)
    uvicorn.run(create_app(settings), **options)


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Apply database migrations."""
    settings = _settings(database_url)

    async def work(_services: Services) -> None:
        return None

    _with_services(settings, work)
    console.print("Database is up to date.")


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="A name for the site.")],
    origin: Annotated[list[str] | None, typer.Option(
        "--origin", help="An allowed origin (repeatable); none = any.")] = None,
    tenant_id: Annotated[str | None, typer.Option("--id", help="Choose the tenant id.")] = None,
    anonymous: Annotated[bool, typer.Option(help="Let visitors write without SSO.")] = True,
    simple_sso: Annotated[bool, typer.Option(help="Accept unsigned (Simple) SSO.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create a tenant; prints its id and API secret (shown only now)."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.create(
            name, tenant_id=tenant_id, origins=origin or (), allow_anonymous=anonymous,
            allow_simple_sso=simple_sso,
        )
        console.print(f"tenant id:  {tenant.id}")
        console.print(f"API secret: {tenant.api_secret}")

    _with_services(_settings(database_url), work)


@tenant_app.command("origins")
def tenant_origins(
    tenant_id: Annotated[str, typer.Argument(help="The tenant whose origins to set.")],
    origin: Annotated[list[str] | None, typer.Option(
        "--origin", help="An allowed origin (repeatable); replaces the whole list.")] = None,
    any_origin: Annotated[bool, typer.Option(
        "--any", help="Clear the list: pages on any origin may call.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Set the pages (origins) allowed to call a tenant's API and live endpoint."""
    if bool(origin) == any_origin:
        console.print("Give either one or more --origin, or --any.")
        raise typer.Exit(1)

    async def work(services: Services) -> None:
        tenant = await services.tenants.set_origins(tenant_id, origin or ())
        console.print(f"{tenant.id}: allowed origins: "
                      f"{', '.join(tenant.allowed_origins) or 'any'}")

    _with_services(_settings(database_url), work)


@tenant_app.command("list")
def tenant_list(database_url: DatabaseOption = None) -> None:
    """List tenants (never their secrets)."""

    async def work(services: Services) -> None:
        table = Table("id", "name", "anonymous", "simple SSO", "origins")
        for t in await services.tenants.list():
            table.add_row(t.id, t.name, "yes" if t.allow_anonymous else "no",
                          "yes" if t.allow_simple_sso else "no",
                          ", ".join(t.allowed_origins) or "any")
        console.print(table)

    _with_services(_settings(database_url), work)


@tenant_app.command("update")
def tenant_update(
    tenant_id: Annotated[str, typer.Argument(help="The tenant to change.")],
    name: Annotated[str | None, typer.Option(help="A new name for the site.")] = None,
    anonymous: Annotated[bool | None, typer.Option(
        "--anonymous/--no-anonymous", help="Let visitors write without SSO.")] = None,
    simple_sso: Annotated[bool | None, typer.Option(
        "--simple-sso/--no-simple-sso", help="Accept unsigned (Simple) SSO.")] = None,
    visitors_resolve: Annotated[bool | None, typer.Option(
        "--visitors-resolve/--no-visitors-resolve",
        help="Let every visitor who may write resolve and reopen conversations (else "
             "only their authors, moderators and admins).")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Change a tenant's name or rules; what is not given stays as it is."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.update(
            tenant_id, name=name, allow_anonymous=anonymous, allow_simple_sso=simple_sso,
            visitors_resolve=visitors_resolve)
        console.print(f"{tenant.id}: name {tenant.name!r}, anonymous "
                      f"{'yes' if tenant.allow_anonymous else 'no'}, simple SSO "
                      f"{'yes' if tenant.allow_simple_sso else 'no'}, visitors resolve "
                      f"{'yes' if tenant.visitors_resolve else 'no'}", markup=False)

    _with_services(_settings(database_url), work)


@tenant_app.command("rotate-secret")
def tenant_rotate_secret(
    tenant_id: Annotated[str, typer.Argument(help="The tenant whose secret to replace.")],
    database_url: DatabaseOption = None,
) -> None:
    """Replace a tenant's API secret; prints the new one (shown only now)."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.rotate_secret(tenant_id)
        console.print(f"API secret: {tenant.api_secret}")

    _with_services(_settings(database_url), work)


@webhook_app.command("add")
def webhook_add(
    tenant_id: Annotated[str, typer.Argument(help="The tenant (site).")],
    url: Annotated[str, typer.Argument(help="Where to POST events (http or https).")],
    event: Annotated[list[str] | None, typer.Option(
        "--event", help=f"An event type to send (repeatable); none: all of them. Types: "
                        f"{', '.join(EVENT_TYPES)}.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add an endpoint; prints its id and signing secret (shown only now). A URL that is
    not http(s) or resolves to a private address is refused (exit status 2)."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.get(tenant_id)
        try:
            added = await services.webhooks.add(tenant, url, event or ())
        except BadInput as exc:
            if exc.code != "target-refused":
                raise
            console.print(f"[red]refused:[/red] {exc.reason}", highlight=False)
            raise typer.Exit(2) from None
        console.print(f"endpoint id: {added.endpoint.id}")
        console.print(f"Secret: {added.secret}", highlight=False)

    _with_services(_settings(database_url), work)


@webhook_app.command("list")
def webhook_list(
    tenant_id: Annotated[str, typer.Argument(help="The tenant (site).")],
    database_url: DatabaseOption = None,
) -> None:
    """List a tenant's endpoints and how they are doing (never their secrets)."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.get(tenant_id)
        table = Table("id", "url", "events", "state")
        # Ids whole (scripts copy them); long URLs and reasons wrap instead.
        table.columns[0].no_wrap = True
        for column in table.columns[1:]:
            column.overflow = "fold"
        for e in await services.webhooks.list(tenant):
            state = (f"disabled: {e.disabled_reason}" if e.disabled_at is not None
                     else "failing" if e.failing_since is not None else "active")
            table.add_row(e.id, e.url, ", ".join(e.events) or "all", state)
        console.print(table)

    _with_services(_settings(database_url), work)


@webhook_app.command("remove")
def webhook_remove(
    tenant_id: Annotated[str, typer.Argument(help="The tenant (site).")],
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    database_url: DatabaseOption = None,
) -> None:
    """Remove an endpoint; its deliveries not yet made are failed."""

    async def work(services: Services) -> None:
        await services.webhooks.remove(await services.tenants.get(tenant_id), endpoint_id)
        console.print(f"Removed {endpoint_id}.")

    _with_services(_settings(database_url), work)


@webhook_app.command("test")
def webhook_test(
    tenant_id: Annotated[str, typer.Argument(help="The tenant (site).")],
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    database_url: DatabaseOption = None,
) -> None:
    """Send a `test` event to an endpoint now and print how it went (exit status 1 if it
    failed; the outbox then retries it like any delivery)."""
    from imagechat.app import couriers

    settings = _settings(database_url)

    async def work(services: Services) -> bool:
        tenant = await services.tenants.get(tenant_id)
        delivery = await services.webhooks.test(tenant, endpoint_id)
        worker = DeliveryWorker(services.db, services.clock,
                                OutboxPolicy.from_settings(settings),
                                couriers(settings, services.db, services.clock))
        settled = await worker.attempt_now(delivery)
        found = await services.webhooks.delivery(tenant, delivery.id)
        answer = f"HTTP {found.last_status_code}" if found.last_status_code else "no answer"
        console.print(f"delivery {found.id}: {found.status}, {answer}"
                      f"{': ' + found.last_error if found.last_error else ''}",
                      markup=False, highlight=False)
        return settled is not None and settled.outcome.delivered

    if not _with_services(settings, work):
        raise typer.Exit(1)


@app.command("import-fastcomments")
def import_fastcomments(
    file: Annotated[Path, typer.Argument(
        help="Comments in the reference's APIComment shape: a JSON array, or JSON lines.",
        exists=True, dir_okay=False, readable=True)],
    tenant_id: Annotated[str, typer.Option("--tenant", help="The tenant to load them into.")],
    database_url: DatabaseOption = None,
) -> None:
    """Load comments exported from FastComments; running it again changes nothing."""
    rows = list(read_rows(file.read_text(encoding="utf-8")))

    async def work(services: Services) -> ImportReport:
        tenant = await services.tenants.get(tenant_id)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task("importing", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await FastCommentsImport(services.db, services.clock).run(
                tenant, rows, advance)

    report = _with_services(_settings(database_url), work)
    console.print(f"{report.loaded} comments loaded, {report.already_there} already there, "
                  f"{report.conversations} conversations made, {len(report.bad)} bad rows.")
    for line, reason in report.bad:
        console.print(f"  line {line}: {reason}", markup=False, highlight=False)
    if report.bad:
        # The good rows are in; a script still learns that some were not.
        raise typer.Exit(1)


def _safe_url(url: str) -> str:
    """A database URL fit for a log line: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def main() -> None:
    app()
