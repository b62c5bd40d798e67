"""Identity: who you are and how you prove it (`credentials`), and the people of the
organization (`people`)."""

import strawberry

from schema.identity.credentials import CredentialsMutations, CredentialsQuery
from schema.identity.people import PeopleMutations, PeopleQuery


@strawberry.type
class IdentityQuery(CredentialsQuery, PeopleQuery):
    pass


@strawberry.type
class IdentityMutations(CredentialsMutations, PeopleMutations):
    pass


__all__ = ["IdentityMutations", "IdentityQuery"]
