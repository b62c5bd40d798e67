"""`inviteUser` and `acceptInvite`: how a person joins an organization.

An admin invites an email address with a role and hands the token over (by mail or chat:
Flowgate sends no mail). The token works once and for `invite_ttl` seconds; accepting it
creates the account and signs the person in. Inviting an address again issues a new token
and leaves earlier ones to expire."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from flowgate.auth.credentials import digest
from flowgate.principal import Actor
from models.enums import UserRole
from models.sql import Invite, User
from resolvers import audit
from resolvers.identity import accounts, logins, passwords
from resolvers.mutations.errors import AuthenticationFailedError, InvalidInputError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

INVITE_MARK: Final = "fgi_"
UNUSABLE: Final = "This invite is unknown, already used or expired: ask an admin for a new one"


async def invite_user(info: Info[Context], *, email: str, role: UserRole) -> tuple[Invite, str]:
    """A new invite and its token (shown once)."""
    principal = info.context.principal
    issues = Issues()
    address = accounts.email(issues, "email", email)
    if address is None:
        raise InvalidInputError(issues)
    token = INVITE_MARK + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with info.context.services.postgres.session() as session, session.begin():
        if await accounts.email_taken(session, address):
            issues.add("email", IssueCode.DUPLICATE, f"{address!r} already has an account")
            raise InvalidInputError(issues)
        invite = Invite(
            id=uuid.uuid4(),
            organization_id=principal.organization_id,
            email=address,
            role=role,
            token_hash=digest(token),
            invited_by=principal.user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=info.context.services.settings.invite_ttl),
        )
        session.add(invite)
        audit.add_entry(
            session,
            info.context.actor,
            action="user.invite",
            object_type="Invite",
            object_id=invite.id,
            summary={"email": address, "role": role.value, "expires_at": _iso(invite.expires_at)},
        )
    return invite, token


async def accept_invite(
    info: Info[Context], *, token: str, name: str, password: str
) -> logins.Tokens:
    """Create the invited account and sign it in. The input is checked before the token, so
    a typo in the password does not use the invite up."""
    issues = Issues()
    cleaned_name = values.text(issues, "name", name, max_length=accounts.MAX_NAME, required=True)
    if not token.strip().startswith(INVITE_MARK) or "\x00" in token:
        raise AuthenticationFailedError(UNUSABLE)
    now = datetime.now(UTC)
    async with info.context.services.postgres.session() as session, session.begin():
        invite = await session.scalar(
            select(Invite).where(Invite.token_hash == digest(token.strip())).with_for_update()
        )
        if invite is None or invite.accepted_at is not None or invite.expires_at <= now:
            raise AuthenticationFailedError(UNUSABLE)
        passwords.check(issues, "password", password, email=invite.email)
        if issues or cleaned_name is None:
            raise InvalidInputError(issues)
        if await accounts.email_taken(session, invite.email):
            issues.add("token", IssueCode.DUPLICATE, f"{invite.email!r} already has an account")
            raise InvalidInputError(issues)
        user = User(
            id=uuid.uuid4(),
            organization_id=invite.organization_id,
            email=invite.email,
            name=cleaned_name,
            role=invite.role,
            password_hash=await passwords.hash_password(password),
            is_active=True,
            preferences={},
            last_login_at=now,
        )
        session.add(user)
        await session.flush()  # the invite's `accepted_by` names the new row
        invite.accepted_at, invite.accepted_by = now, user.id
        login_id, tokens = logins.start(session, info, user)
        audit.add_entry(
            session,
            Actor.person(user.organization_id, user.id, info.context.address),
            action="user.join",
            object_type="User",
            object_id=user.id,
            summary={"invite": str(invite.id), "role": invite.role.value, "session": str(login_id)},
        )
    return tokens


def _iso(value: datetime) -> str:
    return value.isoformat()
