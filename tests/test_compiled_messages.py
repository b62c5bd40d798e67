"""A conversation's messages (paged both ways) and last message, and a project's agents,
compile into the one statement, with answers equal to the resolvers' (harness:
tests/compiled.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, update

from flowgate.services import Services
from models.sql import Conversation, Message
from resolvers.ids import from_global_id
from tests.compiled import (
    ROLES,
    Pair,
    prepared_answers,
)
from tests.compiled_operations import BAD_CURSOR
from tests.conversations import BRANCH, POST, begin, create_project, run, start_chat
from tests.scratch import DELETE_AGENT, Scratch

ATTACH = (
    "mutation($p: ID!, $a: ID!) { attachAgentToProject(projectId: $p, agentId: $a) { __typename } }"
)


MESSAGE_FIELDS = """id __typename role content status model provider cost responseTimeMs error
  createdAt finishedAt usage { prompt completion total __typename }
  toolCalls { id callId toolName server arguments result status durationMs cost startedAt
    finishedAt __typename }
  attachments { id name mediaType size checksum storageUrl __typename }"""
MESSAGES = f"""
query Messages($first: Int, $after: String, $last: Int, $before: String) {{
  conversations(first: 8, filter: {{includeDeleted: true}}) {{
    edges {{ node {{ id messageCount
      lastMessage {{ {MESSAGE_FIELDS} }}
      messages(first: $first, after: $after, last: $last, before: $before) {{
        __typename totalCount
        pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
        edges {{ cursor node {{ {MESSAGE_FIELDS} }} }}
      }}
    }} }}
  }}
}}
"""
PAGES: list[dict[str, Any]] = [
    {},
    {"first": 2},
    {"first": 0},
    {"last": 2},
    {"last": 0},
    {"last": 10},
]


def _messages(answer: Any) -> list[dict[str, Any]]:
    edges = answer.body["data"]["conversations"]["edges"]
    return [edge["node"]["messages"] for edge in edges]


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("page", PAGES)
async def test_messages_page_both_ways(
    users: dict[str, Pair], email: str, page: dict[str, Any]
) -> None:
    pair = users[email]
    # when: a page of every listed conversation's messages, then the pages next to it
    answer = await pair.check(MESSAGES, page)
    assert "errors" not in answer.body
    assert answer.round_trips == {"sql": 1, "mongo": 0}
    backward = "last" in page
    for connection in _messages(answer):
        info = connection["pageInfo"]
        if info["startCursor"] is None:
            continue
        # then: the page on from either end equals the resolvers' too, one statement each
        for variables in (
            {"first": 3, "after": info["endCursor"]},
            {"last": 3, "before": info["startCursor"]},
            {"after": info["startCursor"]},
        ):
            onward = await pair.check(MESSAGES, variables)
            assert "errors" not in onward.body
            assert onward.round_trips == {"sql": 1, "mongo": 0}
        break
    # ...and not vacuous: acme's people see messages, in pages of two that continue (the
    # seeded chats hold two or four messages)
    if email.endswith("acme.example") and page.get("first", page.get("last")) == 2:
        shown = _messages(answer)
        assert any(connection["edges"] for connection in shown)
        more = "hasPreviousPage" if backward else "hasNextPage"
        assert any(connection["pageInfo"][more] for connection in shown)
        nodes = [edge["node"] for connection in shown for edge in connection["edges"]]
        assert any(node["model"] and node["usage"]["total"] for node in nodes)
        assert any(node["toolCalls"] for node in nodes)


# Each is refused as the resolvers refuse it: a cursor that is no page cursor, a page cursor
# of a conversation (its sort value a time, not a position), a position out of range,
# mixed directions, a page too large.
CONVERSATION_CURSOR = (
    "WyIyMDI2LTExLTAxVDAwOjAwOjAwKzAwOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0"
)
HUGE_POSITION = "WzQyOTQ5NjcyOTYsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd"
BAD_PAGES: list[dict[str, Any]] = [
    {"after": BAD_CURSOR},
    {"last": 2, "before": BAD_CURSOR},
    {"after": CONVERSATION_CURSOR},
    {"before": HUGE_POSITION},
    {"first": 2, "last": 2},
    {"first": 2, "before": BAD_CURSOR},
    {"last": 101},
    {"first": -1},
]


@pytest.mark.parametrize("email", ["admin@acme.example", "user@acme.example"])
@pytest.mark.parametrize("page", BAD_PAGES)
async def test_bad_message_pages_get_the_resolvers_errors(
    users: dict[str, Pair], email: str, page: dict[str, Any]
) -> None:
    answer = await users[email].check(MESSAGES, page)
    assert answer.body["errors"], answer.body


LAST = f"""
query Last($id: ID!) {{
  conversation(id: $id) {{ id messageCount
    lastMessage {{ {MESSAGE_FIELDS} }}
    messages(last: 5) {{ totalCount pageInfo {{ hasPreviousPage startCursor }}
      edges {{ cursor node {{ {MESSAGE_FIELDS} }} }} }}
  }}
}}
"""


async def test_last_message_of_a_conversation_without_one(
    users: dict[str, Pair], chats: Scratch, services: Services
) -> None:
    # given: a chat of three messages (the first with two files, a reply begun, so still
    # streaming, the newest)
    agent = await chats.create_agent()
    files = [
        {
            "name": name,
            "mediaType": "text/plain",
            "size": 12,
            "checksum": "sha256:00",
            "storageUrl": f"s3://bucket/{name}",
        }
        for name in ("notes.txt", "brief.txt")
    ]
    conversation, first = await start_chat(chats.client, agent, "Hello there", attachments=files)
    posted = await run(chats.client, POST, id=conversation, content="And more")
    assert posted["__typename"] == "MessagePayload", posted
    reply = await begin(chats.client, conversation, posted["chatMessage"]["id"])
    admin = users["admin@acme.example"]

    # when, then: its last message is the reply...
    answer = await admin.check(LAST, {"id": conversation})
    shown = answer.body["data"]["conversation"]
    assert shown["lastMessage"]["id"] == reply and shown["lastMessage"]["status"] == "STREAMING"
    oldest = shown["messages"]["edges"][0]["node"]
    assert [file["name"] for file in oldest["attachments"]] == ["brief.txt", "notes.txt"]
    assert answer.round_trips == {"sql": 1, "mongo": 0}

    # ...then, the reply deleted, the message before it; then, all deleted, none at all
    await _delete(services, [reply])
    answer = await admin.check(LAST, {"id": conversation})
    shown = answer.body["data"]["conversation"]
    assert shown["lastMessage"]["id"] == posted["chatMessage"]["id"]
    assert shown["messages"]["totalCount"] == 2

    await _delete(services, [first, posted["chatMessage"]["id"]])
    for email in ROLES:
        answer = await users[email].check(LAST, {"id": conversation})
        shown = answer.body["data"]["conversation"]
        if email.startswith("admin@acme"):
            assert shown["lastMessage"] is None
            assert shown["messages"] == {
                "totalCount": 0,
                "pageInfo": {"hasPreviousPage": False, "startCursor": None},
                "edges": [],
            }


async def _delete(services: Services, message_ids: list[str]) -> None:
    ids = [from_global_id(message_id)[1] for message_id in message_ids]
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Message).where(Message.id.in_(ids)).values(deleted_at=func.now())
        )


AGENTS = """
query Agents($status: [ProjectStatus!]) {
  projects(first: 20, status: $status) {
    edges { node { id name
      agents { __typename id name status deletedAt owner { email }
        conversations(first: 2) { totalCount edges { node { id lastMessage { id content } } } } }
    } }
  }
}
"""


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("status", [None, ["ARCHIVED", "DELETED"]])
async def test_a_projects_agents_compile(
    users: dict[str, Pair], email: str, status: list[str] | None
) -> None:
    answer = await users[email].check(AGENTS, {"status": status})
    assert "errors" not in answer.body
    assert answer.round_trips == {"sql": 1, "mongo": 0}
    if status is None and email.endswith("acme.example"):  # not vacuous
        projects = [edge["node"] for edge in answer.body["data"]["projects"]["edges"]]
        assert any(project["agents"] for project in projects)


async def test_a_deleted_agent_leaves_its_projects(users: dict[str, Pair], chats: Scratch) -> None:
    # given: a project of three agents, one of them deleted
    agents = [await chats.create_agent(label) for label in ("c-agent", "b-agent", "a-agent")]
    project = await create_project(chats.client, chats.name("project"))
    for agent in agents:
        attached = await run(chats.client, ATTACH, p=project, a=agent)
        assert attached["__typename"] == "ProjectPayload", attached
    deleted = await run(chats.client, DELETE_AGENT, id=agents[1])
    assert deleted["__typename"] == "DeleteAgentPayload", deleted
    query = "query($id: ID!) { project(id: $id) { agents { id name } } }"

    # when, then: the live ones alone, by name, as each role sees them
    for email in ROLES:
        answer = await users[email].check(query, {"id": project})
        assert answer.round_trips == {"sql": 1, "mongo": 0}
        if email.endswith("acme.example"):
            shown = answer.body["data"]["project"]["agents"]
            assert [agent["id"] for agent in shown] == [agents[2], agents[0]]


FALLS_BACK = "{ conversations(first: 3) { edges { node { lastMessage { parentId } } } } }"


async def test_these_fields_are_answered_prepared(users: dict[str, Pair]) -> None:
    """They no longer fall back: the operation is answered fully compiled, so the second
    asking takes the prepared path; a field that still falls back (a message's parent's
    id) is not prepared."""
    admin = users["admin@acme.example"]
    for query, compiles in (
        # Texts of their own: an earlier test's asking is prepared already.
        (MESSAGES.replace("query Messages", "query MessagesAgain"), True),
        (AGENTS.replace("query Agents", "query AgentsAgain"), True),
        (
            "{ conversations(first: 3) { edges { node { lastMessage { id }"
            " branches { id } forkedFrom { id } } } } }",
            True,
        ),
        (FALLS_BACK, False),
    ):
        before = prepared_answers()
        await admin.check(query)
        assert (prepared_answers() - before == 1) == compiles, query


BRANCHES = """
query Branches($id: ID!) {
  conversation(id: $id) { id forkedFrom { id content }
    branches { id title deletedAt forkedFrom { id content role } parent { id }
      branches { id } lastMessage { id } }
  }
}
"""


@pytest.mark.parametrize("shared", [True, False])
async def test_branches_and_where_they_forked_compile(
    users: dict[str, Pair], chats: Scratch, services: Services, shared: bool
) -> None:
    # given: a chat (held in a project, or not) and three branches of it, from its first
    # and its second message, one of them deleted
    agent = await chats.create_agent()
    project = await create_project(chats.client, chats.name("p")) if shared else None
    conversation, first = await start_chat(chats.client, agent, "Hello", project=project)
    posted = await run(chats.client, POST, id=conversation, content="Second")
    branches = []
    for source in (first, posted["chatMessage"]["id"], first):
        made = await run(chats.client, BRANCH, id=conversation, **{"from": source})
        assert made["__typename"] == "ConversationPayload", made
        branches.append(made["conversation"]["id"])
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Conversation)
            .where(Conversation.id == from_global_id(branches[2])[1])
            .values(deleted_at=func.now())
        )

    for email in ROLES:
        # when: the chat and a branch, as each role
        pair = users[email]
        answer = await pair.check(BRANCHES, {"id": conversation})
        branch = await pair.check(BRANCHES, {"id": branches[1]})

        # then: the resolvers' answers, one statement each; not vacuous for those who see it
        assert answer.round_trips == branch.round_trips == {"sql": 1, "mongo": 0}
        shown = answer.body["data"]["conversation"]
        sees = email.startswith("admin@acme") or (shared and email.endswith("acme.example"))
        assert (shown is not None) == sees
        if sees:
            assert [b["id"] for b in shown["branches"]] == branches[:2]
            forked = branch.body["data"]["conversation"]["forkedFrom"]
            assert forked["id"] == posted["chatMessage"]["id"]
