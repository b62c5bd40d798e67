"""Stops an embedded SecantusDB once the gateway that started it is gone, however it went.

Run by `flowgate.stores.embedded` as `python -I watchdog.py LIFELINE PIDFD GRACE`, a process
of its own: standard library only, so it starts in milliseconds and needs nothing importable.

LIFELINE is the read end of a pipe whose only write end the gateway holds. The kernel closes
that end when the gateway process ends, whichever thread started SecantusDB and whether it
exited, was killed or crashed; the read then sees end-of-file. PIDFD refers to SecantusDB
itself (opened by the gateway while SecantusDB was its unreaped child), so a signal can never
reach a process that reused its pid.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys


def watch(lifeline: int, pidfd: int, grace: float) -> None:
    poller = select.poll()
    poller.register(lifeline, select.POLLIN)  # a hang-up is reported whatever the mask
    poller.register(pidfd, select.POLLIN)  # readable once SecantusDB has exited
    while True:
        ready = dict(poller.poll())
        if pidfd in ready:
            return  # stopped by the gateway (or died): nothing left to do
        # Nobody ever writes on the lifeline: readiness means every write end is closed.
        if lifeline in ready and not os.read(lifeline, 1):
            break
    # SIGTERM first: SecantusDB's own handler checkpoints and closes its storage.
    _signal(pidfd, signal.SIGTERM)
    exited, _, _ = select.select([pidfd], [], [], grace)
    if not exited:
        # Its graceful stop waits for in-flight operations (a long scan holds the storage
        # lock) with no bound; its journal covers what a kill cuts short.
        _signal(pidfd, signal.SIGKILL)


def _signal(pidfd: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
        signal.pidfd_send_signal(pidfd, signum)


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
