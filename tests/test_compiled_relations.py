"""Relations beyond agents and executions compile into the one statement: an agent's (and a
project's) conversations, the `conversations`, `conversation` and `project` roots, with
answers equal to the resolvers' (harness: tests/compiled.py; approvals:
tests/test_compiled_approvals.py)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from flowgate.seed import SeedSummary
from flowgate.services import Services
from models.enums import UserRole
from models.sql import User
from tests.auth import client_as
from tests.compiled import (
    ROLES,
    Pair,
)
from tests.conversations import start_chat
from tests.scratch import Scratch

CONVERSATIONS = """
query Chats($n: Int!) {
  agents(first: 20, orderBy: {field: NAME, direction: ASC}) {
    edges { node { id name
      conversations(first: $n) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id title status createdAt updatedAt lastMessageAt messageCount
          deletedAt __typename user { id email } agent { name }
          project { id name status owner { id } } } }
      }
    } }
  }
}
"""


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("size", [0, 2, 20])
async def test_an_agents_conversations_compile(
    users: dict[str, Pair], email: str, size: int
) -> None:
    answer = await users[email].check(CONVERSATIONS, {"n": size})
    assert "errors" not in answer.body
    assert answer.round_trips == {"sql": 1, "mongo": 0}


ROOTS = """
query Roots($n: Int, $order: ConversationOrder, $filter: ConversationFilter) {
  conversations(first: $n, orderBy: $order, filter: $filter) {
    __typename totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status messageCount updatedAt
      project { id name conversations(first: 3) { totalCount edges { node { id title } } } }
      agent { id name owner { email } } } }
  }
}
"""
FILTERS = [
    None,
    {"status": ["ARCHIVED"]},
    {"includeDeleted": True, "titleContains": "a"},
    {"updatedFrom": "2026-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("filter_", FILTERS)
@pytest.mark.parametrize("order", [None, {"field": "CREATED_AT", "direction": "ASC"}])
async def test_the_conversations_root_compiles(
    users: dict[str, Pair], email: str, filter_: object, order: object
) -> None:
    answer = await users[email].check(ROOTS, {"n": 15, "order": order, "filter": filter_})
    assert "errors" not in answer.body
    assert answer.round_trips == {"sql": 1, "mongo": 0}


BY_ID = """
query ById($c: ID!, $p: ID!) {
  conversation(id: $c) { id title deletedAt parent { id title user { email } }
    user { id conversations(first: 3) { totalCount edges { cursor node { id title } } } } }
  project(id: $p) { id name description repositoryUrl localPath framework language status
    createdAt updatedAt owner { id name } }
}
"""
NODES = """
query Node($id: ID!) {
  node(id: $id) { __typename id
    ... on Conversation { title agent { name } }
    ... on Project { name status }
    ... on User { email role }
  }
}
"""


async def test_conversations_and_projects_by_id_compile(users: dict[str, Pair]) -> None:
    # given: the conversations the admin sees, with their projects and users
    admin = users["admin@acme.example"]
    listed = await admin.check(
        "{ conversations(first: 50, filter: {includeDeleted: true}) { edges { node { id"
        " user { id } project { id } } } } }"
    )
    nodes = [edge["node"] for edge in listed.body["data"]["conversations"]["edges"]]
    with_project = [node for node in nodes if node["project"]]
    assert with_project and len(with_project) < len(nodes)

    for email in ROLES:
        pair = users[email]
        seen = 0
        for node in nodes[:12]:
            project = (node["project"] or with_project[0]["project"])["id"]
            # when, then: equal answers, each root field one statement
            answer = await pair.check(BY_ID, {"c": node["id"], "p": project}, roots=2)
            assert answer.round_trips == {"sql": 2, "mongo": 0}
            seen += answer.body["data"]["conversation"] is not None
            for global_id in (node["id"], project, node["user"]["id"]):
                single = await pair.check(NODES, {"id": global_id})
                assert single.round_trips == {"sql": 1, "mongo": 0}
        # ...and not vacuous: the admin sees every one, another organization none, a
        # member some (theirs and those shared in projects)
        if email.startswith("admin@acme"):
            assert seen == len(nodes[:12])
        if email.endswith("globex.example"):
            assert seen == 0


PROJECTS = """
query Projects($n: Int, $after: String, $status: [ProjectStatus!]) {
  projects(first: $n, after: $after, status: $status) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id name status updatedAt owner { email }
      conversations(first: 2) { totalCount pageInfo { hasNextPage }
        edges { cursor node { id title user { id } } } } } }
  }
}
"""


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("status", [None, ["ACTIVE"], ["ARCHIVED", "DELETED"]])
async def test_the_projects_root_compiles(
    users: dict[str, Pair], email: str, status: list[str] | None
) -> None:
    pair = users[email]
    # when: a first page, then the next one after its last cursor
    first = await pair.check(PROJECTS, {"n": 1, "status": status})
    cursor = first.body["data"]["projects"]["pageInfo"]["endCursor"]
    rest = await pair.check(PROJECTS, {"n": 20, "after": cursor, "status": status})

    # then: the resolvers' pages, one statement each
    assert first.round_trips == rest.round_trips == {"sql": 1, "mongo": 0}
    if status is None:  # not vacuous: the seeded projects are listed, with conversations
        listed = first.body["data"]["projects"]["edges"] + rest.body["data"]["projects"]["edges"]
        assert len(listed) > 1
        assert any(edge["node"]["conversations"]["totalCount"] for edge in listed)


MINE = "query Mine { conversations(first: 100) { edges { node { id user { email } } } } }"


async def test_a_members_conversation_statement_serves_that_member_alone(
    app: FastAPI, services: Services, seeded: SeedSummary, scratch: Scratch
) -> None:
    """A member's statement names their user id and is kept for them: two members of one
    role asking the same text each get their own conversations, compiled, every time."""
    async with services.postgres.session() as session:
        colleague = await session.scalar(
            select(User.email).where(
                User.role == UserRole.USER,
                User.email.endswith("@acme.example"),
                User.email != "user@acme.example",
            )
        )
    assert colleague is not None
    agent = await scratch.create_agent()
    async with (
        client_as(app, services, "user@acme.example") as one,
        client_as(app, services, colleague) as other,
    ):
        own = {}
        for member in (one, other):
            own[member.principal.user_id], _ = await start_chat(member.http, agent)
        for _ in range(3):  # built, kept, then (prepared) kept again
            for member, stranger in ((one, other), (other, one)):
                answer = (await member.http.post("/graphql", json={"query": MINE})).json()
                assert answer["extensions"]["roundTrips"] == {"sql": 1, "mongo": 0}
                seen = {edge["node"]["id"] for edge in answer["data"]["conversations"]["edges"]}
                assert own[member.principal.user_id] in seen
                assert own[stranger.principal.user_id] not in seen
