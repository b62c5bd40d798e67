"""Password rules and hashing: one home for both, used by `acceptInvite`,
`changePassword` and `flowgate user create`.

The rules follow NIST SP 800-63B: a minimum length rather than composition rules, and no
password that is known to attackers (the published demo password first of all) or that
contains the account's own email."""

from __future__ import annotations

import asyncio
from typing import Final

from flowgate.auth import passwords as auth_passwords
from resolvers.validation.issues import IssueCode, Issues

MIN_LENGTH: Final = 12
# argon2 accepts any length; a bound keeps a megabyte "password" from costing a megabyte of
# hashing per attempt.
MAX_LENGTH: Final = 200
# The demo accounts' published password and the passwords every list of leaked ones starts
# with (lower-cased, compared against the lower-cased candidate).
KNOWN_PASSWORDS: Final = frozenset(
    {
        "flowgate-demo",
        "flowgate",
        "flowgate123",
        "password",
        "password123",
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "correcthorsebatterystaple",
        "administrator",
    }
)


def check(issues: Issues, path: str, password: str, *, email: str) -> bool:
    """Whether `password` may be used by the account `email`; records why not."""
    before = issues.total
    if len(password) < MIN_LENGTH:
        issues.add(
            path,
            IssueCode.OUT_OF_RANGE,
            f"must be at least {MIN_LENGTH} characters, got {len(password)}",
        )
    elif len(password) > MAX_LENGTH:
        issues.add(path, IssueCode.TOO_LONG, f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    local_part = email.lower().partition("@")[0]
    if lowered in KNOWN_PASSWORDS or lowered.strip() in KNOWN_PASSWORDS:
        issues.add(path, IssueCode.INVALID, "is a published or commonly used password")
    elif email.lower() in lowered or (len(local_part) >= 4 and local_part in lowered):
        issues.add(path, IssueCode.INVALID, "must not contain the account's email address")
    if "\x00" in password:
        issues.add(path, IssueCode.INVALID, "must not contain NUL characters")
    return issues.total == before


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU on purpose: off the event loop.
    return await asyncio.to_thread(auth_passwords.hash_password, password)
