"""People: invites, profiles, passwords, deactivation, the list of users, the organization."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import sql
from resolvers.context import Context
from resolvers.identity import invites, members, profiles, users
from resolvers.ids import to_global_id
from schema.connection import Connection
from schema.enums import UserRole
from schema.errors import AuthenticationFailed, Forbidden, NotFound, ValidationError
from schema.identity.credentials import LoginPayload
from schema.mutations.capture import capture_errors
from schema.organization import Organization, resolve_users
from schema.permissions import ADMINS, READERS
from schema.preferences import PreferencesInput
from schema.user import User


@strawberry.type(name="Invite", description="An invitation to join the organization.")
class InviteType:
    id: strawberry.ID = strawberry.field(description="The invite's global id.")
    email: str = strawberry.field(description="Who is invited; their login email.")
    role: UserRole = strawberry.field(description="The role they get on joining.")
    created_at: datetime = strawberry.field(description="When the invite was made.")
    expires_at: datetime = strawberry.field(description="When the token stops working.")

    @classmethod
    def from_model(cls, model: sql.Invite) -> InviteType:
        return cls(
            id=strawberry.ID(to_global_id("Invite", model.id)),
            email=model.email,
            role=model.role,
            created_at=model.created_at,
            expires_at=model.expires_at,
        )


@strawberry.type(description="A new invite, with its token: shown this once only.")
class InviteUserPayload:
    invite: InviteType = strawberry.field(description="The invite.")
    token: str = strawberry.field(
        description="Give it to the person: `acceptInvite` takes it once, before `expiresAt`."
    )


@strawberry.type(description="The user as changed.")
class UpdateProfilePayload:
    user: User = strawberry.field(description="You, as changed.")


@strawberry.type(description="The password is changed; your other logins are ended.")
class ChangePasswordPayload:
    user: User = strawberry.field(description="You.")


@strawberry.type(description="The user is deactivated: logins ended, keys stopped.")
class DeactivateUserPayload:
    user: User = strawberry.field(description="The user, with `isActive` false.")


@strawberry.type(description="The user may log in again.")
class ReactivateUserPayload:
    user: User = strawberry.field(description="The user, with `isActive` true.")


@strawberry.type(description="The organization as changed.")
class UpdateOrganizationPayload:
    organization: Organization = strawberry.field(description="The organization as changed.")


@strawberry.input(description="What to change about yourself; fields left out (null) stay.")
class UpdateProfileInput:
    name: str | None = strawberry.field(default=None, description="Display name, 1 to 200.")
    first_name: str | None = strawberry.field(
        default=None, description="Given name (up to 100); empty clears it."
    )
    last_name: str | None = strawberry.field(
        default=None, description="Family name (up to 100); empty clears it."
    )
    username: str | None = strawberry.field(
        default=None,
        description="A handle unique in the organization: 3 to 50 of a-z, 0-9, '.', '_', '-'; "
        "empty clears it.",
    )
    preferences: PreferencesInput | None = strawberry.field(
        default=None, description="Preferences to change."
    )


@strawberry.input(description="What to change about the organization; null keeps a field.")
class UpdateOrganizationInput:
    name: str | None = strawberry.field(default=None, description="Display name, 1 to 200.")
    slug: str | None = strawberry.field(
        default=None, description="Lower-case letters and digits joined by '-', unique."
    )


InviteUserResult = Annotated[
    InviteUserPayload | ValidationError,
    strawberry.union("InviteUserResult", description="The invite, or why there is none."),
]
AcceptInviteResult = Annotated[
    LoginPayload | AuthenticationFailed | ValidationError,
    strawberry.union("AcceptInviteResult", description="The new login, or why there is none."),
]
UpdateProfileResult = Annotated[
    UpdateProfilePayload | ValidationError,
    strawberry.union("UpdateProfileResult", description="You as changed, or why not."),
]
ChangePasswordResult = Annotated[
    ChangePasswordPayload | ValidationError | Forbidden,
    strawberry.union("ChangePasswordResult", description="Done, or why not."),
]
DeactivateUserResult = Annotated[
    DeactivateUserPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("DeactivateUserResult", description="The deactivated user, or why not."),
]
ReactivateUserResult = Annotated[
    ReactivateUserPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("ReactivateUserResult", description="The reactivated user, or why not."),
]
UpdateOrganizationResult = Annotated[
    UpdateOrganizationPayload | ValidationError,
    strawberry.union("UpdateOrganizationResult", description="The organization, or why not."),
]
UserId = Annotated[strawberry.ID, strawberry.argument(description="The user's id.")]


@strawberry.type
class PeopleQuery:
    users: Connection[User] = strawberry.field(
        resolver=resolve_users,
        permission_classes=ADMINS,
        description="The organization's people by email, deactivated ones too (admins only).",
    )


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(
        permission_classes=ADMINS,
        description="Invite an email address with a role (admins only): a token that "
        "`acceptInvite` takes once, within 24 hours unless configured otherwise.",
    )
    @capture_errors
    async def invite_user(
        self,
        info: strawberry.Info[Context],
        email: Annotated[str, strawberry.argument(description="Who to invite.")],
        role: Annotated[UserRole, strawberry.argument(description="The role they get.")],
    ) -> InviteUserResult:
        invite, token = await invites.invite_user(info, email=email, role=role)
        return InviteUserPayload(invite=InviteType.from_model(invite), token=token)

    @strawberry.mutation(
        description="Join with an invite token: creates your account and logs you in. "
        "Needs no other credential."
    )
    @capture_errors
    async def accept_invite(
        self,
        info: strawberry.Info[Context],
        token: Annotated[str, strawberry.argument(description="The invite's token.")],
        name: Annotated[str, strawberry.argument(description="Your display name.")],
        password: Annotated[
            str,
            strawberry.argument(
                description="At least 12 characters, not your email, not a known password."
            ),
        ],
    ) -> AcceptInviteResult:
        return LoginPayload.from_tokens(
            await invites.accept_invite(info, token=token, name=name, password=password)
        )

    @strawberry.mutation(permission_classes=READERS, description="Change your own profile.")
    @capture_errors
    async def update_profile(
        self,
        info: strawberry.Info[Context],
        input: Annotated[UpdateProfileInput, strawberry.argument(description="The changes.")],
    ) -> UpdateProfileResult:
        user = await profiles.update_profile(
            info,
            name=input.name,
            first_name=input.first_name,
            last_name=input.last_name,
            username=input.username,
            preferences_change=input.preferences.to_change() if input.preferences else None,
        )
        return UpdateProfilePayload(user=User.from_model(user))

    @strawberry.mutation(
        permission_classes=READERS,
        description="Change your password (logged in with it, not with an API key); your "
        "other logins end.",
    )
    @capture_errors
    async def change_password(
        self,
        info: strawberry.Info[Context],
        current_password: Annotated[str, strawberry.argument(description="Your password now.")],
        new_password: Annotated[
            str,
            strawberry.argument(
                description="At least 12 characters, not your email, not a known password."
            ),
        ],
    ) -> ChangePasswordResult:
        user = await profiles.change_password(info, current=current_password, new=new_password)
        return ChangePasswordPayload(user=User.from_model(user))

    @strawberry.mutation(
        permission_classes=ADMINS,
        description="Deactivate a member (admins, not themselves): their logins end, their "
        "API keys stop working and their open subscriptions close.",
    )
    @capture_errors
    async def deactivate_user(
        self, info: strawberry.Info[Context], user_id: UserId
    ) -> DeactivateUserResult:
        user = await users.set_active(info, user_id=user_id, active=False)
        return DeactivateUserPayload(user=User.from_model(user))

    @strawberry.mutation(
        permission_classes=ADMINS,
        description="Let a deactivated member log in again (admins, not themselves); their "
        "API keys work again.",
    )
    @capture_errors
    async def reactivate_user(
        self, info: strawberry.Info[Context], user_id: UserId
    ) -> ReactivateUserResult:
        user = await users.set_active(info, user_id=user_id, active=True)
        return ReactivateUserPayload(user=User.from_model(user))

    @strawberry.mutation(
        permission_classes=ADMINS, description="Rename your organization (admins only)."
    )
    @capture_errors
    async def update_organization(
        self,
        info: strawberry.Info[Context],
        input: Annotated[UpdateOrganizationInput, strawberry.argument(description="Changes.")],
    ) -> UpdateOrganizationResult:
        organization = await members.update_organization(info, name=input.name, slug=input.slug)
        return UpdateOrganizationPayload(organization=Organization.from_model(organization))
