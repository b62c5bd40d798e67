"""The `flowgate` command line."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from flowgate.settings import Settings, SettingsError, load_settings
from flowgate.stores.errors import StoreUnavailableError

app = typer.Typer(
    help="Flowgate: a GraphQL gateway over PostgreSQL and MongoDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(help="Where embedded stores keep their data (FLOWGATE_DATA_DIR)."),
]


class SeedSize(StrEnum):
    small = "small"
    large = "large"


def _settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """The settings, or exit with one line naming the bad variable."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    # soft_wrap: one line however long, so scripts and log collectors see one record.
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def _run(action: object) -> None:
    """Run an async action; turn the errors a user can fix into one line and exit code 1."""
    from flowgate.runner import run
    from flowgate.seed import SeedError
    from flowgate.stores.budget import ConnectionBudgetError

    try:
        run(action)
    except (SettingsError, StoreUnavailableError, SeedError, ConnectionBudgetError) as error:
        _fail(str(error))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDir = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Gateway processes on the port (default: one per core with "
            "FLOWGATE_REDIS_URL, else one; more than one needs Redis).",
        ),
    ] = None,
) -> None:
    """Serve the gateway on the configured stores (embedded ones where no URL is set)."""
    import os

    from flowgate import runner
    from flowgate.workers import WorkersNeedRedisError, worker_count

    settings = _settings(data_dir, host=host, port=port)
    try:
        count = worker_count(settings, workers, len(os.sched_getaffinity(0)))
    except WorkersNeedRedisError as error:
        _fail(str(error))
    _run(lambda: runner.serve(settings, workers=count))


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Serve with demo data: migrate, seed when the database is empty, then serve."""
    from flowgate import runner

    settings = _settings(data_dir, host=host, port=port)
    _run(lambda: runner.serve(settings, demo=True))


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    downgrade: Annotated[
        bool, typer.Option("--downgrade", help="Downgrade to --revision instead.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Apply (or with --downgrade, revert) the PostgreSQL migrations."""
    from flowgate import migrate as migrations
    from flowgate.runner import require_postgres
    from flowgate.stores.embedded import embedded_stores

    settings = _settings(data_dir)
    if downgrade and revision == "head":
        _fail("--downgrade needs a --revision to go down to (e.g. 'base' or '-1')")

    async def action() -> None:
        async with embedded_stores(settings) as resolved:
            await require_postgres(resolved)  # a clear line, not Alembic's driver traceback
            if downgrade:
                await migrations.downgrade(resolved, revision)
            else:
                await migrations.upgrade(resolved, revision)
            current = await migrations.current_revision(resolved)
        console.print(f"PostgreSQL schema at revision [bold]{current or 'base'}[/]")

    _run(action)


@app.command()
def seed(
    size: Annotated[SeedSize, typer.Option(help="small (demo) or large (x10, benchmarks).")] = (
        SeedSize.small
    ),
    reset: Annotated[bool, typer.Option(help="Delete all existing data first.")] = False,
    seed_number: Annotated[
        int, typer.Option("--seed", help="Random seed: same number, same data.")
    ] = 42,
    data_dir: DataDir = None,
) -> None:
    """Fill the stores with realistic demo data (migrating first)."""
    from flowgate import migrate as migrations
    from flowgate.runner import open_services
    from flowgate.seed import seed as seed_stores

    settings = _settings(data_dir)

    async def action() -> None:
        async with open_services(settings) as services:
            await migrations.upgrade(services.settings)
            summary = await seed_stores(
                services, size=size.value, seed=seed_number, reset=reset, console=console
            )
        console.print(summary.describe())

    _run(action)


class SearchType(StrEnum):
    agent = "agent"
    workflow = "workflow"
    execution = "execution"
    conversation = "conversation"


@app.command()
def reindex(
    types: Annotated[
        list[SearchType] | None,
        typer.Option(
            "--type",
            help="Rebuild only these (repeatable); executions bring events, chats messages.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Rebuild the search index from the stores, into a new index swapped in when complete."""
    from rich.progress import Progress

    from flowgate.runner import open_services
    from flowgate.search import DocumentType, SearchUnavailableError
    from flowgate.search.rebuild import rebuild, totals

    settings = _settings(data_dir)
    chosen = frozenset(DocumentType[t.name.upper()] for t in types or list(SearchType))

    async def action() -> None:
        async with open_services(settings) as services:
            with Progress(console=console) as bar:
                tasks = {
                    type_: bar.add_task(f"{type_.value}s", total=count)
                    for type_, count in (await totals(services, chosen)).items()
                }
                count = await rebuild(
                    services, chosen, lambda type_, n: bar.advance(tasks[type_], n)
                )
            backend = services.search.backend
        console.print(f"Indexed {count} documents into {backend}")

    try:
        _run(action)
    except SearchUnavailableError as error:
        _fail(f"search index unavailable: {error}")


api_key_app = typer.Typer(help="API keys for engines, integrations and benchmarks.")
app.add_typer(api_key_app, name="api-key")


@api_key_app.command("create")
def create_api_key(
    email: Annotated[str, typer.Option(help="The user the key acts as (with their role).")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    data_dir: DataDir = None,
) -> None:
    """Create an API key and print its secret (only the secret, on stdout; shown once)."""
    from flowgate.auth.keys import UnknownUserError, issue_key
    from flowgate.runner import open_services

    settings = _settings(data_dir)

    async def action() -> None:
        async with open_services(settings) as services:
            try:
                secret = await issue_key(services, email, name)
            except UnknownUserError as error:
                _fail(str(error))
        print(secret)

    _run(action)


user_app = typer.Typer(help="People: the first admin of a new install, and more.")
app.add_typer(user_app, name="user")


class Role(StrEnum):
    admin = "admin"
    user = "user"
    viewer = "viewer"


@user_app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="The login email.")],
    name: Annotated[str, typer.Option(help="The display name.")],
    organization: Annotated[
        str, typer.Option(help="The organization's name; created when no such one exists.")
    ],
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.admin,
    data_dir: DataDir = None,
) -> None:
    """Create a user (and their organization when new). The password is prompted for, or
    read from the first line of stdin when it is not a terminal; never from the arguments,
    which other users of the machine can read."""
    from flowgate import migrate as migrations
    from flowgate.runner import open_services
    from models.enums import UserRole
    from resolvers.identity.accounts import create_account
    from resolvers.mutations.errors import InvalidInputError

    settings = _settings(data_dir)
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")

    async def action() -> None:
        async with open_services(settings) as services:
            await migrations.upgrade(services.settings)
            try:
                account = await create_account(
                    services,
                    email_address=email,
                    name=name,
                    role=UserRole(role.value),
                    organization=organization,
                    password=password,
                )
            except InvalidInputError as error:
                _fail("; ".join(f"--{issue.path}: {issue.message}" for issue in error.issues))
        created = "new organization" if account.organization_created else "organization"
        console.print(
            f"Created {account.user.role.value} {account.user.email} in {created} "
            f"{account.organization.name!r} ({account.organization.slug}): log in with "
            "the `login` mutation, or in GraphiQL."
        )

    _run(action)


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Show whether each store is reachable, the schema revision, and row counts."""
    from flowgate.status import collect_status

    settings = _settings(data_dir)

    async def action() -> None:
        report = await collect_status(settings)
        table = Table("store", "state", "details")
        for row in report.rows:
            table.add_row(*row)
        console.print(table)
        if not report.healthy:
            raise typer.Exit(code=1)

    _run(action)


@app.command()
def doctor(
    repair: Annotated[
        bool, typer.Option("--repair", help="Repair what can be repaired safely.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Report where PostgreSQL and MongoDB disagree (and with --repair, fix what is safe)."""
    from flowgate.doctor import examine
    from flowgate.runner import open_services

    settings = _settings(data_dir)

    async def action() -> None:
        async with open_services(settings) as services:
            report = await examine(services, repair=repair)
        table = Table("finding", "object", "detail", "repaired")
        for finding in report.findings:
            table.add_row(
                finding.kind, finding.object_id, finding.detail, "yes" if finding.repaired else "no"
            )
        console.print(table if report.findings else "The stores agree: nothing to report.")
        if report.unrepaired:
            raise typer.Exit(code=1)

    _run(action)


@app.command("schema")
def print_schema(data_dir: DataDir = None) -> None:
    """Print the GraphQL schema (SDL); `schema.graphql` in the repository is this output.
    (It needs no store: `--data-dir` is accepted, like every command's, and unused.)"""
    from schema import schema as graphql_schema

    # print(), not the rich console: the SDL is data to redirect, not text to style.
    print(graphql_schema.as_str())


def main() -> None:
    # Typer's own error output already names the bad option; nothing else to do here.
    sys.exit(app())


if __name__ == "__main__":
    main()
