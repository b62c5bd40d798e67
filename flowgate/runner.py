"""Running the gateway: embedded stores up, migrations, optional seed, then uvicorn, and
everything stopped in reverse order however the process is asked to end."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Iterator

import uvicorn
import uvloop
from rich.console import Console

from flowgate import migrate
from flowgate.app import create_app
from flowgate.auth.keys import issue_key
from flowgate.logs import configure_logging
from flowgate.services import Services
from flowgate.settings import Settings
from flowgate.stores.budget import read_budget
from flowgate.stores.embedded import embedded_stores
from flowgate.stores.postgres import Postgres
from flowgate.workers import WS_PROTOCOL

console = Console(stderr=True)
# The seed's admin of its first organization: the demo acts as them (password: the seed's).
DEMO_ACCOUNT = "admin@acme.example"
SHUTDOWN_GRACE_SECONDS = 5


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Embedded stores (where no URL is set) and the clients to every store, for one-shot
    commands such as `seed` and `status`."""
    async with embedded_stores(settings) as resolved:
        services = await Services.open(resolved)
        try:
            yield services
        finally:
            await services.close()


async def require_postgres(settings: Settings) -> None:
    """Raise `StoreUnavailableError` (one line naming the setting) unless PostgreSQL answers."""
    postgres = Postgres(settings)
    try:
        await postgres.ping()
    finally:
        await postgres.close()


async def serve(settings: Settings, *, demo: bool = False, workers: int = 1) -> None:
    """Serve until SIGINT or SIGTERM. With `demo`, migrate and seed an empty database first.
    With `workers` > 1, that many processes serve (`flowgate.workers`)."""
    async with embedded_stores(settings) as resolved:
        # Reach every store before migrating or starting uvicorn: an unreachable one fails
        # here with one line naming its setting, not with a traceback from Alembic or from
        # uvicorn's lifespan.
        services = await Services.open(resolved)
        demo_key = engine_key = ""
        try:
            await migrate.upgrade(resolved)
            if demo:
                from flowgate.seed import seed_if_empty

                await seed_if_empty(services, console=console)
                demo_key = await issue_key(services, DEMO_ACCOUNT, "demo", replace=True)
                engine_key = await issue_key(services, DEMO_ACCOUNT, "demo engine", replace=True)
            served = await _within_connection_budget(services, resolved, workers)
        finally:
            await services.close()
        configure_logging(production=served.is_production)
        if workers > 1:
            from flowgate.workers import serve_workers

            console.print(
                f"[bold green]Flowgate[/] on http://{served.host}:{served.port}/graphql"
                f" ({workers} workers)"
            )
            await serve_workers(served, workers)
            return
        config = uvicorn.Config(
            create_app(served),
            host=served.host,
            port=served.port,
            log_level="info",
            # Our handlers, our format (flowgate.logs); the request line replaces the access log.
            log_config=None,
            access_log=False,
            lifespan="on",
            ws=WS_PROTOCOL,  # as every worker's (`flowgate.workers.uvicorn_options`)
            ws_max_size=served.max_ws_message_bytes,
            ws_per_message_deflate=served.ws_compression,
            http="httptools",  # the C parser (uvicorn[standard]); h11 costs more per request
            # A bounded shutdown: open connections (websockets, requests waiting on a store)
            # get this long to finish after SIGTERM, then are closed.
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            # Headers and ws pings come from our own app; uvicorn's defaults are fine otherwise.
        )
        server: uvicorn.Server
        if demo and served.simulator_enabled:
            # Starts the simulated engine once listening, stops it before shutting down.
            from flowgate.simulator.serving import SimulatedServer

            server = SimulatedServer(config, served, engine_key)
        else:
            server = GatewayServer(config)
        console.print(f"[bold green]Flowgate[/] on http://{served.host}:{served.port}/graphql")
        if demo:
            # Ready to paste into GraphiQL's Headers tab (or curl -H). Also: log in as
            # DEMO_ACCOUNT with the demo password, through the `login` mutation.
            console.print(
                f'Demo credential ({DEMO_ACCOUNT}): {{"Authorization": "Bearer {demo_key}"}}',
                soft_wrap=True,
            )
        _serving.append(server)
        try:
            await server.serve()
        finally:
            _serving.remove(server)
        if server.force_exit and hasattr(server, "lifespan"):
            # A forced stop (a second signal) skips the app's lifespan shutdown, which
            # would leave its background tasks (relay, indexer) running against stores
            # that are about to stop, and the process waiting on them.
            await server.lifespan.shutdown()
        # uvicorn swallows SIGINT/SIGTERM to shut down gracefully; when it returns, the
        # `embedded_stores` exit stops PostgreSQL and SecantusDB before the process ends.


class GatewayServer(uvicorn.Server):
    """uvicorn, with SIGINT and SIGTERM routed by `run` rather than by uvicorn itself.

    uvicorn replaces the signal handlers while it serves and re-raises the signal after it
    has shut down; the re-raised signal would then interrupt our own cleanup (stopping the
    embedded stores) half-way. One handler for the whole process avoids that."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


_serving: list[uvicorn.Server] = []
_stopping = threading.Event()  # set by the first signal that asked a server to stop


async def _within_connection_budget(
    services: Services, settings: Settings, processes: int
) -> Settings:
    """`settings` with each process's pool cut to its share of what PostgreSQL has free
    (`flowgate.stores.budget`), said so when it is cut."""
    budget = await read_budget(services.postgres)
    pool = budget.pool_size(processes, settings.database_pool_size)
    if pool == settings.database_pool_size:
        return settings
    console.print(
        f"PostgreSQL has {budget.free} connections free: each of {processes} gateway "
        f"process(es) keeps {pool}, not the {settings.database_pool_size} of "
        "FLOWGATE_DATABASE_POOL_SIZE"
    )
    return settings.model_copy(update={"database_pool_size": pool})


def _on_signal(task: asyncio.Task[None]) -> None:
    """First signal: a graceful stop (uvicorn drains, then the stores stop). A second one
    while uvicorn drains: stop now. Outside uvicorn (migrate, seed): cancel the command,
    whose cleanup still runs. Once a server was asked to stop, later signals never cancel:
    cancelling would cut the embedded stores' shutdown short and leave PostgreSQL running."""
    if _serving:
        server = _serving[-1]
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True
        _stopping.set()
    elif not _stopping.is_set():
        task.cancel()


def run(coroutine_factory: object) -> None:
    """Run a command's coroutine with SIGINT and SIGTERM handled alike, so cleanup runs."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is not None:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, _on_signal, task)
        await coroutine_factory()  # type: ignore[operator]

    # uvloop: the event loop uvicorn would pick itself if it made the loop (here we do).
    with (
        contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt),
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        runner.run(main())
