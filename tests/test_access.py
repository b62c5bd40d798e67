"""`resolvers.access`: which objects a principal may read, change, share and run. The rules
are written twice by necessity (a MongoDB filter for lists, a predicate for one object);
these tests hold the two to each other on the seeded workflows, and check each rule on a
workflow built for it. (Through HTTP, the rules are exercised by the domain modules and
`tests/test_tenancy.py`.)"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from flowgate.principal import Credential, CredentialKind, Principal
from flowgate.services import Services
from models.documents import Workflow, WorkflowPermissions
from models.enums import UserRole
from models.sql import Agent, User
from resolvers import access
from tests.graphql import organization_ids

OWNER, EDITOR, VIEWER, CREATOR, STRANGER = (uuid.UUID(int=n) for n in range(1, 6))
ORGANIZATION = uuid.UUID(int=100)


def principal(
    user_id: uuid.UUID, role: UserRole, organization_id: uuid.UUID = ORGANIZATION
) -> Principal:
    return Principal(
        organization_id=organization_id,
        user_id=user_id,
        role=role,
        credential=Credential(CredentialKind.API_KEY, uuid.UUID(int=0)),
    )


def workflow(*, is_public: bool = False, organization_id: uuid.UUID = ORGANIZATION) -> Workflow:
    # model_construct: a document never saved (Beanie would ask for its collection)
    return Workflow.model_construct(
        id=uuid.uuid4(),
        organization_id=organization_id,
        name="w",
        created_by=CREATOR,
        permissions=WorkflowPermissions(
            owners=[OWNER], editors=[EDITOR], viewers=[VIEWER], is_public=is_public
        ),
    )


# (user, role) -> (read, change, share, run) on a private workflow of their organization
PRIVATE = {
    (STRANGER, UserRole.ADMIN): (True, True, True, True),
    (OWNER, UserRole.USER): (True, True, True, True),
    (CREATOR, UserRole.USER): (True, True, True, True),
    (EDITOR, UserRole.USER): (True, True, False, True),
    (VIEWER, UserRole.USER): (True, False, False, False),
    (STRANGER, UserRole.USER): (False, False, False, False),
    (OWNER, UserRole.VIEWER): (True, False, False, False),
    (STRANGER, UserRole.VIEWER): (False, False, False, False),
}


@pytest.mark.parametrize(
    ("user_id", "role"), list(PRIVATE), ids=[f"{u.int}-{r.value}" for u, r in PRIVATE]
)
def test_what_each_member_may_do_with_a_private_workflow(
    user_id: uuid.UUID, role: UserRole
) -> None:
    # given
    who, private = principal(user_id, role), workflow()

    # when
    allowed = (
        access.may_read_workflow(who, private),
        access.may_change_workflow(who, private),
        access.may_share_workflow(who, private),
        access.may_run_workflow(who, private),
    )

    # then
    assert allowed == PRIVATE[(user_id, role)]


def test_a_public_workflow_is_read_and_run_by_every_user_but_changed_by_its_members() -> None:
    # given
    stranger, public = principal(STRANGER, UserRole.USER), workflow(is_public=True)

    # then
    assert access.may_read_workflow(stranger, public)
    assert access.may_run_workflow(stranger, public)
    assert not access.may_change_workflow(stranger, public)
    assert not access.may_run_workflow(principal(STRANGER, UserRole.VIEWER), public)


def test_nothing_of_another_organization_is_readable_even_to_its_admins() -> None:
    # given
    foreign = workflow(is_public=True, organization_id=uuid.UUID(int=999))

    # then
    assert not access.may_read_workflow(principal(STRANGER, UserRole.ADMIN), foreign)


def test_a_user_changes_the_agents_they_own_and_an_admin_any() -> None:
    # given
    agent = Agent(id=uuid.uuid4(), organization_id=ORGANIZATION, owner_id=OWNER)

    # then
    assert access.may_change_agent(principal(OWNER, UserRole.USER), agent)
    assert access.may_change_agent(principal(STRANGER, UserRole.ADMIN), agent)
    assert not access.may_change_agent(principal(STRANGER, UserRole.USER), agent)
    assert not access.may_change_agent(principal(OWNER, UserRole.VIEWER), agent)


async def test_the_list_filter_selects_exactly_the_workflows_the_predicate_allows(
    services: Services, seeded: object
) -> None:
    # given: every user of the first organization, and its workflows
    organization_id = (await organization_ids(services))[0]
    async with services.postgres.session() as session:
        users = list(
            await session.scalars(select(User).where(User.organization_id == organization_id))
        )
    everything = await Workflow.find({"organization_id": organization_id}).to_list()
    principals = [principal(user.id, user.role, organization_id) for user in users]
    assert {p.role for p in principals} >= {UserRole.ADMIN, UserRole.USER}

    for who in principals:
        # when
        listed = await Workflow.find(access.readable_workflows(who)).to_list()

        # then: the MongoDB filter and the predicate agree, and a non-admin sees fewer
        readable = {w.id for w in everything if access.may_read_workflow(who, w)}
        assert {w.id for w in listed} == readable, who
        if who.role is not UserRole.ADMIN:
            assert readable < {w.id for w in everything}, who
