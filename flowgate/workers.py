"""`flowgate serve --workers N`: N gateway processes on one listening socket.

The parent starts the embedded stores (where no URL is set) and migrates, once; then it binds
the socket and starts N uvicorn processes (uvloop, httptools) that accept on it, each with its
own app, pools and background tasks, as replicas behind a load balancer would run (the relay
and the search indexer are safe to run in every replica). On SIGINT/SIGTERM the parent stops
the workers (they drain), then the stores."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

from fastapi import FastAPI

from flowgate.settings import Settings, load_settings

WORKER_STOP_TIMEOUT = 30.0


def create_app() -> FastAPI:
    """A worker's app (`uvicorn --factory flowgate.workers:create_app`): settings from the
    environment the parent resolved."""
    from flowgate.app import create_app as flowgate_app
    from flowgate.logs import configure_logging

    settings = load_settings()
    configure_logging(production=settings.is_production)
    return flowgate_app(settings)


class WorkersNeedRedisError(ValueError):
    """More than one gateway process without Redis: events would stay in the process."""


def worker_count(settings: Settings, requested: int | None, cores: int) -> int:
    """How many gateway processes `flowgate serve` runs: `requested`, else one per core.

    Live events travel between processes only through Redis: with the in-process bus, a
    subscriber on one worker would never hear of a change made through another (half the
    dashboards silent on two cores). So without `redis_url` the default is one process, and
    asking for more is refused rather than served with updates lost."""
    if settings.redis_url:
        return requested if requested is not None else cores
    if requested is not None and requested > 1:
        raise WorkersNeedRedisError(
            f"--workers {requested} needs FLOWGATE_REDIS_URL: without Redis, live updates "
            "reach only the subscribers of the process that made the change"
        )
    return 1


# uvicorn's websocket protocol for every gateway process (see `uvicorn_options`).
WS_PROTOCOL = "websockets-sansio"


def uvicorn_options(settings: Settings) -> list[str]:
    """uvicorn's options for a gateway process (`create_app`); the benchmark starts its
    gateway with them too (`bench.targets`), so that it measures what is served.

    Websockets on the sans-I/O `websockets` protocol, named rather than left to `auto`
    (which picks it today): its keep-alive pings are timers, where the `websockets` option
    (the library's legacy protocol) runs three tasks and a stream reader per socket, and
    every idle subscriber holds one socket."""
    return [
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        "--ws", WS_PROTOCOL,
        "--ws-max-size", str(settings.max_ws_message_bytes),
        "--ws-per-message-deflate", str(settings.ws_compression).lower(),
    ]  # fmt: skip


def worker_environment(settings: Settings) -> dict[str, str]:
    """The parent's environment with the store URLs it resolved (embedded ones included)
    and the pool size it gave each process."""
    env = dict(os.environ)
    env["FLOWGATE_DATABASE_URL"] = str(settings.database_url)
    env["FLOWGATE_MONGODB_URL"] = str(settings.mongodb_url)
    # Each process's share of PostgreSQL's connections (`flowgate.stores.budget`).
    env["FLOWGATE_DATABASE_POOL_SIZE"] = str(settings.database_pool_size)
    return env


async def serve_workers(settings: Settings, workers: int) -> None:
    """Run `workers` gateway processes until this task is cancelled (a signal) or one exits."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((settings.host, settings.port))
    listener.listen(2048)
    listener.set_inheritable(True)
    command = [
        sys.executable, "-m", "uvicorn", "flowgate.workers:create_app", "--factory",
        "--fd", str(listener.fileno()), *uvicorn_options(settings),
    ]  # fmt: skip
    env = worker_environment(settings)
    processes: list[asyncio.subprocess.Process] = []
    try:
        for _ in range(workers):
            processes.append(
                await asyncio.create_subprocess_exec(
                    *command, env=env, pass_fds=(listener.fileno(),)
                )
            )
        # Until a worker dies (then stop all: a supervisor restarts the service) or a
        # signal cancels this task.
        await asyncio.wait(
            [asyncio.ensure_future(process.wait()) for process in processes],
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        await asyncio.shield(_stop(processes))
        listener.close()


async def _stop(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), WORKER_STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
