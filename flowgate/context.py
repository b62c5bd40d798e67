"""The per-request context: what a resolver may reach, typed.

Built by a FastAPI dependency for every HTTP request and websocket connection. Loaders are
created here, inside the running event loop, so that each request batches its own loads and
nothing is cached across users."""

from __future__ import annotations

from functools import cached_property

from strawberry.fastapi import BaseContext

from flowgate.principal import Principal
from flowgate.services import Services
from flowgate.stores.roundtrips import RoundTrips
from resolvers.loaders import Loaders


class Context(BaseContext):
    def __init__(
        self, services: Services, principal: Principal | None, round_trips: RoundTrips
    ) -> None:
        super().__init__()
        self.services = services
        self._principal = principal
        self.round_trips = round_trips

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            # No organization exists yet: nothing can be scoped, so nothing can be read.
            from resolvers.errors import NoPrincipalError

            raise NoPrincipalError
        return self._principal

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.services, self.principal)

    def refresh_loaders(self) -> None:
        """Forget cached loads: a subscription resolves each event as of that event."""
        self.__dict__.pop("loaders", None)
