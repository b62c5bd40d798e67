"""What a request needs to authenticate and limit its callers, as one typed bundle that the
app creates at start-up and every request context carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flowgate.auth.authenticator import Authenticator
from flowgate.auth.live import LiveSessions
from flowgate.auth.passwords import PasswordVerifier
from flowgate.auth.per_address import SocketsPerAddress
from flowgate.auth.rate_limit import RateLimiter, create_rate_limiter
from flowgate.principal import Credential
from flowgate.services import Services


@dataclass(frozen=True)
class Guards:
    authenticator: Authenticator
    live_sessions: LiveSessions
    rate_limiter: RateLimiter
    passwords: PasswordVerifier
    sockets: SocketsPerAddress

    @classmethod
    def create(cls, services: Services) -> Guards:
        settings = services.settings
        authenticator = Authenticator(settings, services.postgres)
        return cls(
            authenticator=authenticator,
            live_sessions=LiveSessions(authenticator, settings.auth_recheck_interval),
            rate_limiter=create_rate_limiter(settings),
            passwords=PasswordVerifier(settings.max_concurrent_password_hashes),
            sockets=SocketsPerAddress(settings.max_ws_per_address),
        )

    def access_changed(
        self, *, user_id: uuid.UUID | None = None, credential: Credential | None = None
    ) -> None:
        """A credential or a user just lost (or changed) its access through this process:
        stop trusting the cached principal now, and recheck the open websockets now."""
        self.authenticator.forget(user_id=user_id, credential=credential)
        self.live_sessions.recheck_soon()

    async def close(self) -> None:
        self.passwords.close()
        await self.rate_limiter.close()
