"""New accounts: the checks and the rows every way of creating a user shares
(`acceptInvite`, and `flowgate user create`, which needs no request and no principal)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from models.enums import UserRole
from models.sql import AuditLogEntry, Organization, User
from resolvers.identity import passwords
from resolvers.mutations.errors import InvalidInputError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowgate.services import Services

MAX_EMAIL = 320
MAX_NAME = 200
# Deliberately loose: one @, something on each side, a dot in the domain, no spaces. Whether
# the address receives mail is the inviter's business, not a regular expression's.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SLUG_CHARACTERS = re.compile(r"[^a-z0-9]+")


def email(issues: Issues, path: str, value: str) -> str | None:
    """A normalized (trimmed, lower-cased) email address."""
    cleaned = values.text(issues, path, value, max_length=MAX_EMAIL, required=True)
    if cleaned is None:
        return None
    if not _EMAIL.fullmatch(cleaned):
        issues.add(path, IssueCode.INVALID, f"{cleaned[:100]!r} is not an email address")
        return None
    return cleaned.lower()


async def email_taken(session: AsyncSession, address: str) -> bool:
    return (await session.scalar(select(User.id).where(User.email == address))) is not None


def slug_of(name: str) -> str:
    return _SLUG_CHARACTERS.sub("-", name.lower()).strip("-")[:100]


@dataclass(frozen=True)
class NewAccount:
    user: User
    organization: Organization
    organization_created: bool


async def create_account(
    services: Services,
    *,
    email_address: str,
    name: str,
    role: UserRole,
    organization: str,
    password: str,
) -> NewAccount:
    """A user of the organization named (or slugged) `organization`, created when new.
    Every problem is reported at once, as for a mutation; nothing is written then."""
    issues = Issues()
    address = email(issues, "email", email_address)
    cleaned_name = values.text(issues, "name", name, max_length=MAX_NAME, required=True)
    org_name = values.text(issues, "organization", organization, max_length=200, required=True)
    if address is not None:
        passwords.check(issues, "password", password, email=address)
    slug = slug_of(org_name) if org_name else ""
    if org_name is not None and not slug:
        issues.add("organization", IssueCode.INVALID, "must contain a letter or a digit")
    if issues or address is None or cleaned_name is None or org_name is None:
        raise InvalidInputError(issues)
    password_hash = await passwords.hash_password(password)
    async with services.postgres.session() as session, session.begin():
        if await email_taken(session, address):
            issues.add("email", IssueCode.DUPLICATE, f"{address!r} already has an account")
            raise InvalidInputError(issues)
        found = await session.scalar(select(Organization).where(Organization.slug == slug))
        org = found or Organization(id=uuid.uuid4(), name=org_name, slug=slug)
        if found is None:
            session.add(org)
            await session.flush()  # the user's foreign key needs the row
        user = User(
            id=uuid.uuid4(),
            organization_id=org.id,
            email=address,
            name=cleaned_name,
            role=role,
            password_hash=password_hash,
            is_active=True,
            preferences={},
        )
        session.add(user)
        session.add(
            AuditLogEntry(
                organization_id=org.id,
                actor_id=None,
                actor_type="system",
                action="user.create",
                object_type="User",
                object_id=str(user.id),
                summary={"email": address, "role": role.value, "via": "cli"},
            )
        )
    return NewAccount(user=user, organization=org, organization_created=found is None)
