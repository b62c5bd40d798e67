"""The secrets Flowgate hands out: API keys and refresh tokens, and how they are stored.

Both carry 256 random bits, so a plain SHA-256 of the secret is enough to store them: there
is nothing to guess, which is what a slow hash (argon2, for passwords) protects against, and
a fast hash keeps authenticating a request cheap. Each names its row in clear (the key's
prefix, the login's id), so a lookup is one indexed read, then one constant-time compare."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

API_KEY_MARK = "fgk_"
REFRESH_TOKEN_MARK = "fgr_"  # noqa: S105 - a marker, not a secret
PREFIX_LENGTH = len(API_KEY_MARK) + 12  # what `api_keys.prefix` keeps and lists show
_HEX = re.compile("[0-9a-f]+")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


@dataclass(frozen=True)
class NewApiKey:
    secret: str  # shown once, to whoever created the key
    prefix: str
    digest: str


def new_api_key() -> NewApiKey:
    prefix = API_KEY_MARK + secrets.token_hex(6)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(secret=secret, prefix=prefix, digest=digest(secret))


def api_key_prefix(secret: str) -> str | None:
    """The prefix of something shaped like an API key, else `None`."""
    if not secret.startswith(API_KEY_MARK) or len(secret) <= PREFIX_LENGTH + 1:
        return None
    prefix = secret[:PREFIX_LENGTH]
    if secret[PREFIX_LENGTH] != "_" or not _HEX.fullmatch(prefix.removeprefix(API_KEY_MARK)):
        return None
    return prefix


def new_refresh_token(session_id: uuid.UUID) -> tuple[str, str]:
    """A refresh token for the login `session_id`, and the digest to store."""
    secret = secrets.token_urlsafe(32)
    return f"{REFRESH_TOKEN_MARK}{session_id.hex}_{secret}", digest(secret)


def parse_refresh_token(token: str) -> tuple[uuid.UUID, str] | None:
    """The login id and the secret of a refresh token, or `None` if it is not one."""
    if not token.startswith(REFRESH_TOKEN_MARK):
        return None
    session_hex, _, secret = token.removeprefix(REFRESH_TOKEN_MARK).partition("_")
    try:
        session_id = uuid.UUID(hex=session_hex)
    except ValueError:
        return None
    return (session_id, secret) if secret else None
