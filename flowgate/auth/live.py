"""Open websockets and the credentials they were opened with.

A dashboard's subscription may stay open for days; its credential is checked when the socket
opens and then again every `auth_recheck_interval` seconds, for every open socket at once (two
queries, see `Authenticator.standings`). A socket whose key was revoked, whose login ended,
whose user was deactivated or whose role was lowered is closed with 4403; the client must
connect again, with a credential that still works."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import structlog

from flowgate.auth.authenticator import Authenticator, Standing
from flowgate.background import in_background
from flowgate.principal import Principal
from flowgate.stores.errors import unreachable_store
from models.enums import UserRole

log = structlog.get_logger(__name__)

CLOSE_CODE = 4403
_RANK = {UserRole.VIEWER: 0, UserRole.USER: 1, UserRole.ADMIN: 2}


def lost_access(principal: Principal, standing: Standing | None) -> bool:
    if standing is None or standing.organization_id != principal.organization_id:
        return True
    return _RANK[standing.role] < _RANK[principal.role]


class Socket(Protocol):
    """An open connection to close when its credential loses access. The router hands in
    its websocket wrapped (`flowgate.sockets.closable`): this adapter knows no HTTP framework,
    so that the guards every request context carries do not bring one to the resolvers."""

    @property
    def open(self) -> bool: ...

    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class LiveSession:
    principal: Principal
    websocket: Socket

    @property
    def open(self) -> bool:
        return self.websocket.open


class LiveSessions:
    def __init__(self, authenticator: Authenticator, interval: float) -> None:
        self._authenticator = authenticator
        self._interval = interval
        self._sessions: dict[int, LiveSession] = {}
        self._ids = itertools.count()
        self._wake = asyncio.Event()
        self._outage: str | None = None  # the store that failed the last check, if any

    def add(self, principal: Principal, websocket: Socket) -> None:
        self._sessions[next(self._ids)] = LiveSession(principal, websocket)

    def recheck_soon(self) -> None:
        """Check now rather than at the next tick: access was just taken away here."""
        self._wake.set()

    async def check(self) -> int:
        """Close every socket whose credential lost its access; how many were closed."""
        for number, session in list(self._sessions.items()):
            if not session.open:
                del self._sessions[number]
        if not self._sessions:
            return 0
        sessions = list(self._sessions.items())
        standings = await self._authenticator.standings(s.principal.credential for _, s in sessions)
        closed = 0
        for number, session in sessions:
            if lost_access(session.principal, standings.get(session.principal.credential)):
                self._sessions.pop(number, None)
                closed += 1
                log.info(
                    "websocket closed: credential lost access",
                    user_id=str(session.principal.user_id),
                    credential=session.principal.credential.kind.value,
                )
                if session.open:
                    await session.websocket.close(CLOSE_CODE, "Credential revoked or downgraded")
        return closed

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.check()
            except Exception as error:  # a store hiccup must not end the checks for good
                self._failed(error)
            else:
                if self._outage is not None:
                    log.info("live session checks resumed", store=self._outage)
                    self._outage = None

    def _failed(self, error: Exception) -> None:
        """A store outage is one line when it begins (and one when it ends, above), not a
        traceback every tick; anything else is a bug and keeps its traceback."""
        store = unreachable_store(error)
        if store is None:
            log.exception("live session check failed")
        elif self._outage != store:
            self._outage = store
            log.warning("live session checks paused: store unavailable", store=store)


def running_checks(sessions: LiveSessions) -> AbstractAsyncContextManager[None]:
    return in_background(sessions.run, name="flowgate-live-session-checks")
