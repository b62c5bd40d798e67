"""`users`: the people of the organization, for its admins; and `updateOrganization`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError

from models.enums import UserRole
from models.sql import Organization, User
from resolvers import audit
from resolvers.identity.accounts import slug_of
from resolvers.mutations.errors import InvalidInputError
from resolvers.pagination import Page, PageRequest
from resolvers.sql_pages import SortKey, count_rows, fetch_page
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

# People are looked up by address: an alphabetical list is what an admin scans.
_BY_EMAIL = SortKey(expression=User.email, value_of=lambda user: user.email, parse=str)


@dataclass(frozen=True)
class UserFilter:
    roles: list[UserRole] | None = None
    is_active: bool | None = None
    contains: str | None = None  # in the email, name or username


def _conditions(info: Info[Context], filter_: UserFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        User.organization_id == info.context.principal.organization_id
    ]
    if filter_.roles is not None:
        conditions.append(User.role.in_(filter_.roles))
    if filter_.is_active is not None:
        conditions.append(User.is_active.is_(filter_.is_active))
    if filter_.contains:
        text = filter_.contains.replace("\x00", "")
        conditions.append(
            User.email.icontains(text, autoescape=True)
            | User.name.icontains(text, autoescape=True)
            | User.username.icontains(text, autoescape=True)
        )
    return conditions


async def list_users(
    info: Info[Context], *, page: PageRequest, filter_: UserFilter | None = None
) -> tuple[Page[User], Select[User]]:
    query = select(User).where(*_conditions(info, filter_ or UserFilter()))
    async with info.context.services.postgres.session() as session:
        result = await fetch_page(
            session, query, page, sort=_BY_EMAIL, id_column=User.id, descending=False
        )
    return result, query


async def count(info: Info[Context], query: Select[User]) -> int:
    async with info.context.services.postgres.session() as session:
        return await count_rows(session, query)


async def organization_of(info: Info[Context], user: User) -> Organization | None:
    """The user's organization: through the request's loader, or, in the answer of a login
    (no principal yet), read for the user who has just proved who they are."""
    if info.context.authenticated:
        return await info.context.loaders.organization_by_id.load(user.organization_id)
    async with info.context.services.postgres.session() as session:
        return await session.get(Organization, user.organization_id)


async def update_organization(
    info: Info[Context], *, name: str | None, slug: str | None
) -> Organization:
    """Rename the caller's organization, or change its slug (unique across Flowgate)."""
    issues = Issues()
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = values.text(issues, "name", name, max_length=200, required=True)
    if slug is not None:
        cleaned = slug_of(slug)
        if not cleaned or cleaned != slug.strip():
            issues.add(
                "slug",
                IssueCode.INVALID,
                "must be lower-case letters and digits separated by single '-'"
                + (f" (such as {cleaned!r})" if cleaned else ""),
            )
        changes["slug"] = cleaned
    if issues:
        raise InvalidInputError(issues)
    organization_id = info.context.principal.organization_id
    async with info.context.services.postgres.session() as session, session.begin():
        organization = await session.get(Organization, organization_id, with_for_update=True)
        if organization is None:
            raise RuntimeError("the principal's organization no longer exists")
        before = {attribute: getattr(organization, attribute) for attribute in changes}
        for attribute, value in changes.items():
            setattr(organization, attribute, value)
        summary = audit.changes(before, changes)
        if summary["changed"]:
            audit.add_entry(
                session,
                info.context.actor,
                action="organization.update",
                object_type="Organization",
                object_id=organization.id,
                summary=summary,
            )
        try:
            await session.flush()
        except IntegrityError:
            issues.add("slug", IssueCode.DUPLICATE, "is taken by another organization")
            raise InvalidInputError(issues) from None
    return organization
