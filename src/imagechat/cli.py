"""The `imagechat` command: serve, migrate, tenants, imports. Calls services, never http or
ws."""

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
from imagechat.domain.errors import ImageChatError
from imagechat.services.container import Services, build_services
from imagechat.services.fastcomments_import import FastCommentsImport, ImportReport, read_rows
from imagechat.services.recorder import NullSink
from imagechat.settings import Settings
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade

app = typer.Typer(help="ImageChat: live conversations pinned to spots on images.",
                  no_args_is_help=True, add_completion=False)
tenant_app = typer.Typer(help="Manage tenants (sites).", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
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
            return await work(build_services(db, SystemClock(), NullSink()))
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
    workers: Annotated[int | None, typer.Option(
        "--workers", envvar="IMAGECHAT_WORKERS", min=1,
        help="Processes serving on the one port, each a node; more than one needs "
             "--redis-url.")] = None,
) -> None:
    """Run the server (REST API, live sync, widget, demo)."""
    from imagechat import workers as worker_processes
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
    if workers:
        updates["workers"] = workers
    settings = settings.model_copy(update=updates)
    try:
        options = server_options(settings)
        worker_processes.check(settings)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    scheme = "https" if settings.tls_cert else "http"
    several = f", {settings.workers} workers" if settings.workers > 1 else ""
    banner = (f"ImageChat on {scheme}://{settings.host}:{settings.port}/demo  "
              f"(API docs: /docs, database: {_safe_url(settings.database_url)}{several})")
    if settings.log_json or settings.workers > 1:
        # The supervisor of several workers logs as they do.
        logging.config.dictConfig(options["log_config"])
    if settings.log_json:
        # Every line of output is then a JSON log record, the greeting included.
        logging.getLogger("imagechat").info(banner)
    else:
        console.print(banner)
    if settings.workers > 1:
        raise typer.Exit(worker_processes.run(settings, options))
    uvicorn.run(create_app(settings, live_fast_path=True), **options)


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
