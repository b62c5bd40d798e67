"""Who is asking: the organization, the user, their role, and the credential they used.

Built by `flowgate.auth.Authenticator` from a bearer credential. Every query is scoped by
`organization_id`; what may be done is decided by `role` (see `resolvers.permissions`)."""

from __future__ import annotations

import functools
import ipaddress
import uuid
from dataclasses import dataclass
from enum import StrEnum

from models.enums import UserRole


class CredentialKind(StrEnum):
    ACCESS_TOKEN = "access_token"  # noqa: S105 - a JWT naming its login (`auth_sessions` row)
    API_KEY = "api_key"  # an `api_keys` row


@dataclass(frozen=True)
class Credential:
    """What was presented: revoking it (the login or the key) ends every use of it."""

    kind: CredentialKind
    id: uuid.UUID


@dataclass(frozen=True)
class Principal:
    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: UserRole
    credential: Credential

    @property
    def rate_limit_key(self) -> str:
        return f"{self.organization_id}:{self.user_id}"


@dataclass(frozen=True)
class Actor:
    """Who caused a change and from where: what the domain code (lifecycle, audit) records.

    Read once at the edge, where the request is, so that the code below takes a plain value
    rather than Strawberry's `Info` or Starlette's request."""

    organization_id: uuid.UUID
    # None for the gateway itself (`system`), e.g. the sweeper that times out runs.
    user_id: uuid.UUID | None
    # "api_key" when an engine's (or anyone's) key did it; "user" for a person's login;
    # "system" for the gateway's own background work.
    kind: str
    address: str | None

    @classmethod
    def of(cls, principal: Principal, address: str | None) -> Actor:
        kind = "api_key" if principal.credential.kind is CredentialKind.API_KEY else "user"
        return cls(principal.organization_id, principal.user_id, kind, address)

    @classmethod
    def person(cls, organization_id: uuid.UUID, user_id: uuid.UUID, address: str | None) -> Actor:
        """A person acting before there is a principal: a login, an accepted invite."""
        return cls(organization_id, user_id, "user", address)

    @classmethod
    def system(cls, organization_id: uuid.UUID) -> Actor:
        """The gateway itself, acting on a rule rather than on anyone's request."""
        return cls(organization_id, None, "system", None)


# Per request, and clients come back: parsed once per distinct peer (bounded).
@functools.lru_cache(maxsize=4096)
def peer_address(host: str | None) -> str | None:
    """The peer's address if PostgreSQL's `inet` accepts it (test clients report names such
    as `testclient`)."""
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None
