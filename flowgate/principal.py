"""Who is asking: the organization, the user, their role, and the credential they used.

Built by `flowgate.auth.Authenticator` from a bearer credential. Every query is scoped by
`organization_id`; what may be done is decided by `role` (see `resolvers.permissions`)."""

from __future__ import annotations

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
