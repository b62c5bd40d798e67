"""Two tenants and their people: in each, one well-known account per role
(`admin@acme.example`, `user@...`, `viewer@...`) plus named colleagues."""

from __future__ import annotations

import random
from datetime import datetime

from flowgate.seed.entities import OrgSeed, UserSeed, new_id, shift
from flowgate.seed.vocabulary import FIRST_NAMES, LAST_NAMES, ORGANIZATIONS
from models.enums import UserRole

DAY_MS = 24 * 3600 * 1000

# Named colleagues besides the three role accounts, by role, per organization.
NAMED_ROLES = (UserRole.ADMIN, UserRole.USER, UserRole.USER, UserRole.USER, UserRole.VIEWER)


def build_organizations(rng: random.Random, anchor: datetime) -> list[OrgSeed]:
    return [
        OrgSeed(
            id=new_id(rng),
            name=name,
            slug=slug,
            created_at=shift(anchor, -rng.randint(400, 700) * DAY_MS),
        )
        for name, slug in ORGANIZATIONS
    ]


def build_users(
    rng: random.Random,
    organizations: list[OrgSeed],
    *,
    named_per_org: int,
    password_hash: str,
    anchor: datetime,
) -> list[UserSeed]:
    """Everyone shares one password hash: hashing is slow on purpose, and it is the same
    demo password for all."""
    users: list[UserSeed] = []
    for org in organizations:
        people = [(role.value, f"Demo {role.value.capitalize()}", role) for role in UserRole]
        taken = {local_part for local_part, _, _ in people}
        for index in range(named_per_org):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local_part, suffix = f"{first}.{last}".lower(), 2
            while local_part in taken:
                local_part, suffix = f"{first}.{last}{suffix}".lower(), suffix + 1
            taken.add(local_part)
            people.append((local_part, f"{first} {last}", NAMED_ROLES[index % len(NAMED_ROLES)]))
        joined_ms = int((anchor - org.created_at).total_seconds() * 1000)
        users.extend(
            UserSeed(
                id=new_id(rng),
                organization_id=org.id,
                email=f"{local_part}@{org.slug}.example",
                name=name,
                role=role,
                password_hash=password_hash,
                created_at=shift(anchor, -rng.randint(DAY_MS * 60, joined_ms)),
            )
            for local_part, name, role in people
        )
    return users
