"""The `imagechat` command: serve, migrate, tenants, webhooks, imports. Calls services,
never http or ws.

Only `migrate`, `serve` (with IMAGECHAT_MIGRATE_ON_START) and an import into an empty
database create or change the schema; every other command refuses a schema that is missing
or behind, and says what to run. A bad setting or a database that cannot be reached ends in
one line and a hint, with exit status 2; a refused operation (an unknown tenant, a bad
origin) with status 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

from imagechat import __version__
from imagechat.domain.clock import SystemClock
from imagechat.domain.errors import BadInput, ImageChatError, Unavailable
from imagechat.domain.models import Tenant
from imagechat.domain.webhooks import EVENT_TYPES
from imagechat.services.archive_export import ArchiveExport
from imagechat.services.archive_import import ArchiveImport, ArchiveReport
from imagechat.services.container import Services, build_services
from imagechat.services.fastcomments_import import FastCommentsImport, ImportReport, read_rows
from imagechat.services.outbox import DeliveryWorker, OutboxPolicy
from imagechat.services.readiness import reason_of
from imagechat.services.recorder import NullSink
from imagechat.settings import Settings
from imagechat.store.backup import pg_dump, pg_dump_available, sqlite_copy
from imagechat.store.database import Database
from imagechat.store.migrate import (
    SchemaNotReady,
    SchemaState,
    schema_state,
    upgrade,
    upgrade_sql,
)

app = typer.Typer(help="ImageChat: live conversations pinned to spots on images.",
                  no_args_is_help=True, add_completion=False)
tenant_app = typer.Typer(help="Manage tenants (sites).", no_args_is_help=True)
db_app = typer.Typer(help="Look at the database's schema.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(db_app, name="db")
webhook_app = typer.Typer(help="Manage a tenant's webhook endpoints.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
# soft_wrap: long lines (ids, secrets, URLs) are never broken, also in a pipe.
console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)

# Exit statuses: 1 the operation was refused; 2 the setup is wrong (a bad setting, an
# unreachable database, a schema that is not current).
REFUSED = 1
BAD_SETUP = 2
_DATABASE_HINT = ("is the database running and reachable, and is IMAGECHAT_DATABASE_URL "
                  "(or --database-url) right?")

T = TypeVar("T")
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", envvar="IMAGECHAT_DATABASE_URL", show_envvar=False,
                 help="sqlite:///file.db or postgresql://user@host/db"),
]


def _fail(status: int, message: str, hint: str | None = None) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    if hint:
        errors.print(f"hint: {hint}", markup=False)
    raise typer.Exit(status)


def _version(value: bool) -> None:
    if value:
        console.print(f"imagechat {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """ImageChat: live conversations pinned to spots on images."""


def _settings(**updates: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    try:
        return Settings(**{k: v for k, v in updates.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        _fail(BAD_SETUP, f"IMAGECHAT_{name.upper()}: {message}",
              "check the variable (or its flag); `imagechat serve --help` lists them")


def _run_on_database(settings: Settings, job: Callable[[Database], Awaitable[T]]) -> T:
    """Run `job` on the database; setup problems end the command in one line, status 2."""

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            return await job(db)
        finally:
            await db.dispose()

    where = _safe_url(settings.database_url)
    try:
        return asyncio.run(run())
    except SchemaNotReady as exc:
        _fail(BAD_SETUP, f"{where}: {exc}")
    except Unavailable as exc:
        _fail(BAD_SETUP, f"cannot reach the database at {where}: {reason_of(exc)}",
              _DATABASE_HINT)
    except ImageChatError as exc:
        _fail(REFUSED, exc.reason)
    except IntegrityError:
        raise
    except (DBAPIError, OSError, TimeoutError) as exc:
        _fail(BAD_SETUP, f"cannot reach the database at {where}: {reason_of(exc)}",
              _DATABASE_HINT)


def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]], *,
                   create_if_empty: bool = False) -> T:
    """Run `work` with the services over a database whose schema is current; an empty
    database gets the schema first when `create_if_empty` (imports)."""

    async def job(db: Database) -> T:
        state = await schema_state(db.writer)
        if state.empty and create_if_empty:
            await upgrade(db.writer, settings.database_url)
        elif (problem := state.problem()) is not None:
            raise SchemaNotReady(problem)
        from imagechat.app import image_limits

        return await work(build_services(
            db, SystemClock(), NullSink(),
            outbound_allow_private=settings.outbound_allow_private,
            outbox_lease_ms=OutboxPolicy.from_settings(settings).lease_ms,
            images=image_limits(settings)))

    return _run_on_database(settings, job)


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

    settings = _settings(database_url=database_url, host=host, port=port, redis_url=redis_url,
                         tls_cert=tls_cert, tls_key=tls_key, log_json=log_json or None,
                         workers=workers)
    try:
        options = server_options(settings)
        worker_processes.check(settings)
    except ValueError as exc:
        _fail(BAD_SETUP, str(exc))
    scheme = "https" if settings.tls_cert else "http"
    several = f", {settings.workers} workers" if settings.workers > 1 else ""
    banner = (f"ImageChat {__version__} on {scheme}://{settings.host}:{settings.port}/demo  "
              f"(API docs: /docs, database: {_safe_url(settings.database_url)}{several})")
    if settings.log_json or settings.workers > 1:
        # Every line of output is then a log record, the greeting included (the supervisor
        # of several workers logs as they do).
        logging.config.dictConfig(options["log_config"])
    if settings.log_json:
        logging.getLogger("imagechat").info(banner)
    else:
        console.print(banner, markup=False)
    if settings.workers > 1:
        raise typer.Exit(worker_processes.run(settings, options))
    uvicorn.run(create_app(settings, live_fast_path=True), **options)


@app.command()
def migrate(
    database_url: DatabaseOption = None,
    sql: Annotated[bool, typer.Option(
        "--sql", help="Print the SQL that would bring the schema up to date (PostgreSQL), "
                      "and change nothing.")] = False,
) -> None:
    """Bring the database's schema up to date (creates it in an empty database)."""
    settings = _settings(database_url=database_url)
    if sql:
        if make_url(settings.database_url).get_backend_name() == "sqlite":
            _fail(BAD_SETUP, "--sql writes PostgreSQL's statements; SQLite's migrations "
                  "copy tables and need the file itself",
                  "back the file up, then run `imagechat migrate` on it")
        state = _run_on_database(settings, lambda db: schema_state(db.writer))
        if state.up_to_date:
            console.print(f"-- The schema is up to date (revision {state.head}); "
                          "nothing to run.", markup=False)
            return
        try:
            sys.stdout.write(upgrade_sql(settings.database_url, state.current))
        except SchemaNotReady as exc:
            _fail(BAD_SETUP, str(exc))
        return

    async def job(db: Database) -> SchemaState:
        await upgrade(db.writer, settings.database_url)
        return await schema_state(db.writer)

    state = _run_on_database(settings, job)
    console.print(f"Database is up to date (revision {state.current}).", markup=False)


@db_app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Print the schema's revision and whether this version needs a migration."""
    settings = _settings(database_url=database_url)
    state = _run_on_database(settings, lambda db: schema_state(db.writer))
    problem = state.problem()
    current = state.current or "none"
    console.print(f"{current} (up to date)" if problem is None else f"{current}: {problem}",
                  markup=False)


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

    _with_services(_settings(database_url=database_url), work)


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

    _with_services(_settings(database_url=database_url), work)


@tenant_app.command("list")
def tenant_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List tenants (never their secrets). In a pipe: tab-separated lines, ids in full."""

    async def work(services: Services) -> list[Tenant]:
        return await services.tenants.list()

    found = _with_services(_settings(database_url=database_url), work)
    if as_json:
        sys.stdout.write(json.dumps([_tenant_json(t) for t in found], indent=2) + "\n")
        return
    header = ("id", "name", "anonymous", "simple SSO", "visitors resolve", "origins")
    rows = [(t.id, t.name, _yes(t.allow_anonymous), _yes(t.allow_simple_sso),
             _yes(t.visitors_resolve), ", ".join(t.allowed_origins) or "any") for t in found]
    if not sys.stdout.isatty():
        for row in (header, *rows):
            sys.stdout.write("\t".join(row) + "\n")
        return
    table = Table(*header)
    table.columns[0].no_wrap = True  # an id is copied from here: never cut or folded
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _tenant_json(tenant: Tenant) -> dict[str, object]:
    return {"id": tenant.id, "name": tenant.name, "allowAnonymous": tenant.allow_anonymous,
            "allowSimpleSSO": tenant.allow_simple_sso,
            "visitorsResolve": tenant.visitors_resolve,
            "allowedOrigins": list(tenant.allowed_origins), "createdAt": tenant.created_at}


@tenant_app.command("delete")
def tenant_delete(
    tenant_id: Annotated[str, typer.Argument(help="The tenant to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Delete a tenant and everything of it: conversations, comments, users, events, usage."""
    settings = _settings(database_url=database_url)

    async def find(services: Services) -> Tenant:
        return await services.tenants.get(tenant_id)

    tenant = _with_services(settings, find)
    if not yes:
        typer.confirm(f"Delete tenant {tenant.id} ({tenant.name}) and everything of it? "
                      "This cannot be undone", abort=True)

    async def work(services: Services) -> dict[str, int]:
        return await services.tenants.delete(tenant_id)

    removed = _with_services(settings, work)
    counts = ", ".join(f"{table} {n}" for table, n in removed.items() if n)
    console.print(f"Deleted tenant {tenant.id}; rows removed: {counts}.", markup=False)


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
    emails: Annotated[bool | None, typer.Option(
        "--emails/--no-emails",
        help="Email the site's users of mentions and replies (when the server has SMTP "
             "set up).")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Change a tenant's name or rules; what is not given stays as it is."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.update(
            tenant_id, name=name, allow_anonymous=anonymous, allow_simple_sso=simple_sso,
            visitors_resolve=visitors_resolve, emails_enabled=emails)
        console.print(f"{tenant.id}: name {tenant.name!r}, anonymous "
                      f"{'yes' if tenant.allow_anonymous else 'no'}, simple SSO "
                      f"{'yes' if tenant.allow_simple_sso else 'no'}, visitors resolve "
                      f"{'yes' if tenant.visitors_resolve else 'no'}, emails "
                      f"{'yes' if tenant.emails_enabled else 'no'}", markup=False,
                      soft_wrap=True)

    _with_services(_settings(database_url=database_url), work)


@tenant_app.command("rotate-secret")
def tenant_rotate_secret(
    tenant_id: Annotated[str, typer.Argument(help="The tenant whose secret to replace.")],
    database_url: DatabaseOption = None,
) -> None:
    """Replace a tenant's API secret; prints the new one (shown only now)."""

    async def work(services: Services) -> None:
        tenant = await services.tenants.rotate_secret(tenant_id)
        console.print(f"API secret: {tenant.api_secret}")

    _with_services(_settings(database_url=database_url), work)


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

    _with_services(_settings(database_url=database_url), work)


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

    _with_services(_settings(database_url=database_url), work)


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

    _with_services(_settings(database_url=database_url), work)


@webhook_app.command("test")
def webhook_test(
    tenant_id: Annotated[str, typer.Argument(help="The tenant (site).")],
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    database_url: DatabaseOption = None,
) -> None:
    """Send a `test` event to an endpoint now and print how it went (exit status 1 if it
    failed; the outbox then retries it like any delivery)."""
    from imagechat.app import couriers

    settings = _settings(database_url=database_url)

    async def work(services: Services) -> bool:
        tenant = await services.tenants.get(tenant_id)
        delivery = await services.webhooks.test(tenant, endpoint_id)
        worker = DeliveryWorker(services.db, services.clock,
                                OutboxPolicy.from_settings(settings),
                                couriers(settings, services))
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

    # Into an empty database the import creates the schema; else it must be current.
    report = _with_services(_settings(database_url=database_url), work, create_if_empty=True)
    console.print(f"{report.loaded} comments loaded, {report.already_there} already there, "
                  f"{report.conversations} conversations made, {len(report.bad)} bad rows.")
    _name_bad_lines(report.bad)


def _name_bad_lines(bad: Sequence[tuple[int, str]]) -> None:
    """After an import: each line that was not loaded, and why; then exit 1 if there was
    one. The good lines are in; a script still learns that some were not."""
    for line, reason in bad:
        console.print(f"  line {line}: {reason}", markup=False, highlight=False)
    if bad:
        raise typer.Exit(1)


@app.command("export-image")
def export_image(
    tenant_id: Annotated[str, typer.Argument(help="The tenant (site).")],
    url_id: Annotated[str, typer.Argument(help="The image's urlId.")],
    file: Annotated[Path, typer.Argument(help="Where to write it; `-`: standard output.",
                                         dir_okay=False)],
    export_format: Annotated[str | None, typer.Option(
        "--format", help="csv, pdf or jsonld; default: FILE's extension.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write one image's conversations as CSV (one row per comment), as the PDF review
    report (the image with numbered markers, then every thread) or as its W3C
    AnnotationCollection (JSON-LD; ids on IMAGECHAT_PUBLIC_URL)."""
    chosen = export_format or file.suffix.lstrip(".")
    settings = _settings(database_url=database_url)
    base_url = settings.public_url or f"http://{settings.host}:{settings.port}"

    async def work(services: Services) -> bytes:
        tenant = await services.tenants.get(tenant_id)
        return (await services.exports.export(tenant, url_id, chosen,
                                              base_url=base_url)).body

    body = _with_services(settings, work)
    if str(file) == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    file.write_bytes(body)
    console.print(f"{file}: {len(body):,} bytes", markup=False, highlight=False)
def _bar() -> Progress:
    # Drawn on a terminal only: in a pipe or a log it would leave a stray line.
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=not console.is_terminal)


@app.command("export")
def export_archive(
    file: Annotated[Path, typer.Argument(help="The archive to write (JSON lines).",
                                         dir_okay=False)],
    tenant_id: Annotated[str | None, typer.Option(
        "--tenant", help="Only this tenant (default: every tenant).")] = None,
    include_secrets: Annotated[bool, typer.Option(
        "--include-secrets", help="Also the tenants' API secrets and the webhook signing "
                                  "secrets (keep such an archive as safe as they are).")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Write the data (tenants, images, conversations, comments, ...) as an archive that
    `imagechat import` reads back, on SQLite or PostgreSQL."""
    partial = file.with_name(file.name + ".partial")

    async def job(db: Database) -> dict[str, int]:
        with _bar() as bar, partial.open("w", encoding="utf-8", newline="\n") as out:
            task = bar.add_task("exporting", total=None)
            return await ArchiveExport(db).run(
                out, tenant_id=tenant_id, secrets=include_secrets,
                progress=lambda done, total: bar.update(task, completed=done, total=total))

    try:
        counts = _run_on_database(_settings(database_url=database_url), job)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # Only a complete archive takes the name: a failed export leaves no file that looks
    # like one.
    partial.replace(file)
    listed = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    console.print(f"{sum(counts.values())} records written to {file}"
                  f"{': ' + listed if listed else ''}.", markup=False)


@app.command("import")
def import_archive(
    file: Annotated[Path, typer.Argument(
        help="An archive written by `imagechat export`.", exists=True, dir_okay=False,
        readable=True)],
    database_url: DatabaseOption = None,
) -> None:
    """Load an archive into an empty database (the schema is created) or one in use;
    stored rows are never overwritten, so running it again changes nothing."""

    async def job(db: Database) -> ArchiveReport:
        with _bar() as bar, file.open(encoding="utf-8") as lines:
            task = bar.add_task("importing", total=None)
            return await ArchiveImport(db).run(
                lines, lambda done, total: bar.update(task, completed=done, total=total))

    report = _run_on_database(_settings(database_url=database_url), job)
    if report.schema_created:
        console.print("The database was empty: its schema was created first.", markup=False)
    loaded = sum(report.loaded.values())
    console.print(f"{loaded} records loaded, {report.already_there} already there, "
                  f"{len(report.bad)} bad lines.", markup=False)
    for kind, n in report.loaded.items():
        console.print(f"  {n} {kind}", markup=False)
    for what, secret in report.new_secrets:
        console.print(f"  {what}: the archive has no secret for it; its new one: {secret}",
                      markup=False)
    _name_bad_lines(report.bad)


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="The copy to write (a new file).",
                                         dir_okay=False)],
    database_url: DatabaseOption = None,
) -> None:
    """A consistent copy of the database while the server runs: `VACUUM INTO` on SQLite,
    pg_dump (custom format) on PostgreSQL."""
    settings = _settings(database_url=database_url)
    try:
        if make_url(settings.database_url).get_backend_name() == "sqlite":
            size = sqlite_copy(settings.database_url, file)
            console.print(f"{file}: a consistent copy of the SQLite database, {size} bytes. "
                          "Restore: stop the server, put the copy in place of the file "
                          "(and remove any -wal and -shm files next to it).", markup=False)
            return
        dump = pg_dump(settings.database_url, file)
    except ImageChatError as exc:
        _fail(REFUSED, exc.reason)
    if not pg_dump_available():
        _fail(REFUSED, "PostgreSQL is backed up with pg_dump, which is not installed here; "
              f"run it where it is: {dump.shown()} (with PGPASSWORD set)",
              "restore with: pg_restore --clean --if-exists --no-owner --dbname=<url> FILE")
    try:
        dump.run()
    except ImageChatError as exc:
        _fail(BAD_SETUP, exc.reason, _DATABASE_HINT)
    console.print(f"{file}: pg_dump of the database (custom format). Restore: "
                  f"pg_restore --clean --if-exists --no-owner --dbname=<url> {file}",
                  markup=False)


def _safe_url(url: str) -> str:
    """A database URL fit for a log line: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def main() -> None:
    app()
