"""Who you are and how you prove it: `me`, `apiKeys`, and the login, key and role mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import sql
from resolvers.context import Context
from resolvers.identity import api_keys, logins, users
from resolvers.ids import to_global_id
from schema.enums import UserRole
from schema.errors import AuthenticationFailed, Forbidden, NotFound, ValidationError
from schema.mutations.capture import capture_errors
from schema.permissions import ADMINS, READERS
from schema.user import User


@strawberry.type(name="ApiKey", description="A credential for an engine or integration.")
class ApiKeyType:
    id: strawberry.ID = strawberry.field(description="The key's global id (not its secret).")
    name: str = strawberry.field(description="What the key is for, as its creator named it.")
    prefix: str = strawberry.field(
        description="The first characters of the secret, to tell keys apart."
    )
    owner_id: strawberry.ID = strawberry.field(
        description="The user the key acts as, with that user's role."
    )
    created_at: datetime = strawberry.field(description="When the key was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used, to the minute; null if never."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null if never."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When the key was revoked; null while it works."
    )

    @classmethod
    def from_model(cls, model: sql.ApiKey) -> ApiKeyType:
        return cls(
            id=strawberry.ID(to_global_id("ApiKey", model.id)),
            name=model.name,
            prefix=model.prefix,
            owner_id=strawberry.ID(to_global_id("User", model.user_id)),
            created_at=model.created_at,
            last_used_at=model.last_used_at,
            expires_at=model.expires_at,
            revoked_at=model.revoked_at,
        )


@strawberry.type(description="A started or refreshed login.")
class LoginPayload:
    access_token: str = strawberry.field(
        description="Send as `Authorization: Bearer <accessToken>`; short-lived."
    )
    access_token_expires_at: datetime = strawberry.field(
        description="When the access token stops working: refresh before then."
    )
    refresh_token: str = strawberry.field(
        description=(
            "Exchange with `refreshToken` for a new pair; each works once. Keep it secret."
        )
    )
    refresh_token_expires_at: datetime = strawberry.field(
        description="When the login ends, refreshed or not: then log in again."
    )
    user: User = strawberry.field(description="Who logged in.")

    @classmethod
    def from_tokens(cls, tokens: logins.Tokens) -> LoginPayload:
        return cls(
            access_token=tokens.access_token,
            access_token_expires_at=tokens.access_token_expires_at,
            refresh_token=tokens.refresh_token,
            refresh_token_expires_at=tokens.refresh_token_expires_at,
            user=User.from_model(tokens.user),
        )


@strawberry.type(description="The login is ended.")
class LogoutPayload:
    ended: bool = strawberry.field(description="Always true.")


@strawberry.type(description="A new API key, with its secret: shown this once only.")
class CreateApiKeyPayload:
    api_key: ApiKeyType = strawberry.field(description="The new key.")
    secret: str = strawberry.field(
        description="Send as `Authorization: Bearer <secret>`. It cannot be shown again."
    )


@strawberry.type(description="The key, revoked.")
class RevokeApiKeyPayload:
    api_key: ApiKeyType = strawberry.field(description="The key, with `revokedAt` set.")


@strawberry.type(description="The user with their new role.")
class UpdateUserRolePayload:
    user: User = strawberry.field(description="The user as changed.")


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What it is for: 1 to 200 characters.")
    expires_in_days: int | None = strawberry.field(
        default=None, description="Days until it stops working (1 to 3650); null: never."
    )


LoginResult = Annotated[
    LoginPayload | AuthenticationFailed,
    strawberry.union("LoginResult", description="Tokens, or why there are none."),
]
LogoutResult = Annotated[
    LogoutPayload | AuthenticationFailed,
    strawberry.union("LogoutResult", description="The ended login, or why not."),
]
CreateApiKeyResult = Annotated[
    CreateApiKeyPayload | ValidationError,
    strawberry.union("CreateApiKeyResult", description="The new key, or why there is none."),
]
RevokeApiKeyResult = Annotated[
    RevokeApiKeyPayload | ValidationError | NotFound,
    strawberry.union("RevokeApiKeyResult", description="The revoked key, or why not."),
]
UpdateUserRoleResult = Annotated[
    UpdateUserRolePayload | ValidationError | NotFound | Forbidden,
    strawberry.union("UpdateUserRoleResult", description="The changed user, or why not."),
]
RefreshToken = Annotated[str, strawberry.argument(description="The login's refresh token.")]


@strawberry.type
class CredentialsQuery:
    @strawberry.field(permission_classes=READERS, description="The user you act as.")
    async def me(self, info: strawberry.Info[Context]) -> User:
        user = await info.context.loaders.user_by_id.load(info.context.principal.user_id)
        if user is None:  # deleted between authentication and now
            raise RuntimeError("the authenticated user no longer exists")
        return User.from_model(user)

    @strawberry.field(
        permission_classes=READERS,
        description="Your API keys, newest first; an admin sees every key of the organization.",
    )
    async def api_keys(self, info: strawberry.Info[Context]) -> list[ApiKeyType]:
        return [ApiKeyType.from_model(key) for key in await api_keys.list_api_keys(info)]


@strawberry.type
class CredentialsMutations:
    @strawberry.mutation(
        description=(
            "Log in with email and password: an access token and a refresh token. Needs no "
            "credential. Attempts per email are limited."
        )
    )
    @capture_errors
    async def login(
        self,
        info: strawberry.Info[Context],
        email: Annotated[str, strawberry.argument(description="The account's email.")],
        password: Annotated[str, strawberry.argument(description="The account's password.")],
    ) -> LoginResult:
        return LoginPayload.from_tokens(await logins.login(info, email=email, password=password))

    @strawberry.mutation(
        description=(
            "A new access token and a new refresh token for a refresh token, which is used "
            "up. A refresh token used twice ends its login. Needs no other credential."
        )
    )
    @capture_errors
    async def refresh_token(
        self, info: strawberry.Info[Context], refresh_token: RefreshToken
    ) -> LoginResult:
        return LoginPayload.from_tokens(await logins.refresh(info, refresh_token=refresh_token))

    @strawberry.mutation(
        description="End a login: its refresh token and its access tokens stop working."
    )
    @capture_errors
    async def logout(
        self, info: strawberry.Info[Context], refresh_token: RefreshToken
    ) -> LogoutResult:
        await logins.logout(info, refresh_token=refresh_token)
        return LogoutPayload(ended=True)

    @strawberry.mutation(
        permission_classes=READERS,
        description="Create an API key acting as you; its secret is in the answer, once.",
    )
    @capture_errors
    async def create_api_key(
        self,
        info: strawberry.Info[Context],
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="The new key.")],
    ) -> CreateApiKeyResult:
        key, secret = await api_keys.create_api_key(
            info, name=input.name, expires_in_days=input.expires_in_days
        )
        return CreateApiKeyPayload(api_key=ApiKeyType.from_model(key), secret=secret)

    @strawberry.mutation(
        permission_classes=READERS,
        description="Revoke one of your API keys (an admin: any of the organization's).",
    )
    @capture_errors
    async def revoke_api_key(
        self,
        info: strawberry.Info[Context],
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's global id.")],
    ) -> RevokeApiKeyResult:
        return RevokeApiKeyPayload(
            api_key=ApiKeyType.from_model(await api_keys.revoke_api_key(info, key_id=id))
        )

    @strawberry.mutation(
        permission_classes=ADMINS,
        description="Change a member's role (admins only, not their own).",
    )
    @capture_errors
    async def update_user_role(
        self,
        info: strawberry.Info[Context],
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
        role: Annotated[UserRole, strawberry.argument(description="The new role.")],
    ) -> UpdateUserRoleResult:
        user = await users.update_user_role(info, user_id=user_id, role=role)
        return UpdateUserRolePayload(user=User.from_model(user))
