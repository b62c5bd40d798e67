"""The per-request context: what a resolver may reach, typed.

Built by a FastAPI dependency for every HTTP request and websocket connection. Loaders are
created here, inside the running event loop, so that each request batches its own loads and
nothing is cached across users. A websocket's principal is set later, when its
`connection_init` message carries the credential (`flowgate.router`).

It lives with the resolvers because it builds their loaders and they read it: above them it
would make a loop, below them it could not hold the loaders. The app shell builds it; it
subclasses the `BaseContext` of Strawberry's FastAPI integration only because that integration
accepts no other class (only that, or a plain dict)."""

from __future__ import annotations

from functools import cached_property

from strawberry.fastapi import BaseContext

from flowgate.auth.guards import Guards
from flowgate.principal import Actor, Principal
from flowgate.services import Services
from flowgate.stores.roundtrips import RoundTrips
from resolvers.loaders import Loaders


class Context(BaseContext):
    def __init__(
        self,
        services: Services,
        guards: Guards,
        principal: Principal | None,
        round_trips: RoundTrips,
        address: str | None = None,
        *,
        json_answers: bool = False,
    ) -> None:
        super().__init__()
        self.services = services
        self.guards = guards
        self._principal = principal
        self.round_trips = round_trips
        # The client's network address, read once here (see `flowgate.principal.peer_address`).
        self.address = address
        # Whether the answer is only ever written out as JSON (an HTTP or websocket answer,
        # not an in-process caller reading `data`): compiled fields may then come back as
        # the JSON text PostgreSQL built (`resolvers.compiled.run.fetch_json`).
        self.json_answers = json_answers

    @property
    def authenticated(self) -> bool:
        return self._principal is not None

    @property
    def principal(self) -> Principal:
        """Who is asking. Fields are guarded by permission classes (`schema.permissions`), so
        an anonymous request normally never gets here; this is the backstop."""
        if self._principal is None:
            from resolvers.errors import UnauthenticatedError

            raise UnauthenticatedError
        return self._principal

    @property
    def actor(self) -> Actor:
        """The principal and the client's address: what domain code records as who acted."""
        return Actor.of(self.principal, self.address)

    def sign_in(self, principal: Principal) -> None:
        """Set the principal of a websocket connection, once its credential is checked."""
        self._principal = principal
        self.__dict__.pop("loaders", None)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.services, self.principal)

    def refresh_loaders(self) -> None:
        """Forget cached loads: a subscription resolves each event as of that event."""
        self.__dict__.pop("loaders", None)
