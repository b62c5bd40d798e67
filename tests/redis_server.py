"""A private `redis-server` for tests that stop and restart Redis: started on a free port in
a temporary folder, with persistence off, and always stopped. Never the shared Redis that
`FLOWGATE_REDIS_URL` names (other tests and other sessions use that one)."""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flowgate.stores.embedded import free_port

PR_SET_PDEATHSIG = 1


def redis_server_path() -> str | None:
    """The `redis-server` binary on PATH, if any."""
    return shutil.which("redis-server")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # A test run killed with SIGKILL must not leave a redis-server behind. The signal fires
    # when the *thread* that forked exits: start the server from the main thread.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class RedisServer:
    """`redis-server --port P --save "" --appendonly no` in a temp folder. `stop()` and
    `start()` again reuse the same port, so clients configured with `url` reconnect to it."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        binary = redis_server_path()
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        if self.running:
            return
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets a prctl flag
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server not ready within {timeout}s:\n{self._log_tail()}")
            time.sleep(0.05)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its connections and accepts new ones, answering none."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait until the port refuses."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while self.ping() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def ping(self) -> bool:
        """True when a server on the port answers PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A running private Redis, stopped (and its folder removed) on exit."""
    with tempfile.TemporaryDirectory(prefix="flowgate-redis-") as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()
