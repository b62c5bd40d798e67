"""Access tokens: short-lived JWTs (HS256) naming the user, the organization and the login.

The role is deliberately not in the token: it is read from the database when the token is
checked (then cached for `auth_cache_ttl`), so lowering a role takes effect in seconds rather
than when the token expires."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "flowgate"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    session_id: uuid.UUID


class InvalidAccessTokenError(Exception):
    """The token is expired, forged or malformed; the message says which, for the client."""


def issue_access_token(
    claims: AccessClaims, secret: str, ttl: int, now: datetime | None = None
) -> tuple[str, datetime]:
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=ttl)
    payload = {
        "iss": ISSUER,
        "typ": "access",
        "sub": str(claims.user_id),
        "org": str(claims.organization_id),
        "sid": str(claims.session_id),
        "iat": issued,
        "exp": expires,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), expires


def read_access_token(token: str, secret: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # never "none", never what the token's header asks for
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "org"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidAccessTokenError(
            "The access token has expired: get a new one with `refreshToken`"
        ) from None
    except jwt.InvalidTokenError:
        raise InvalidAccessTokenError("Not a valid access token or API key") from None
    if payload.get("typ") != "access":
        raise InvalidAccessTokenError("Not an access token")
    try:
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            organization_id=uuid.UUID(payload["org"]),
            session_id=uuid.UUID(payload["sid"]),
        )
    except (TypeError, ValueError):
        raise InvalidAccessTokenError("Not a valid access token or API key") from None
