"""Password checks (argon2), bounded: a few threads verify hashes, whatever the load.

argon2 takes tens of milliseconds of CPU on purpose, so each check runs off the event loop;
without a bound, one request of 15 aliased logins took 15 threads' worth of CPU and three
such requests made every other request wait 22 s. Checks beyond `max_concurrent` wait their
turn in a pool of their own, which the rest of the gateway's threads never queue behind."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


class PasswordVerifier:
    def __init__(self, max_concurrent: int) -> None:
        self._pool = ThreadPoolExecutor(max_concurrent, thread_name_prefix="argon2")
        self._lock = threading.Lock()
        self._running = 0
        # The most checks that ever ran at once: never above `max_concurrent`.
        self.peak = 0

    async def verify(self, password_hash: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self._running += 1
            self.peak = max(self.peak, self._running)
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        finally:
            with self._lock:
                self._running -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def hash_password(password: str) -> str:
    return _hasher.hash(password)
