"""Conversations end to end over HTTP: a chat with a streamed reply and a tool call, what the
reads show, retries, branches, pages of messages, and who sees what."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from flowgate.services import Services
from models.sql import AuditLogEntry
from tests.auth import USER, VIEWER, client_as
from tests.conversations import (
    BRANCH,
    FINISH,
    POST,
    TOOL,
    begin,
    chunk,
    create_project,
    run,
    start_chat,
)
from tests.scratch import Scratch, gql

CONVERSATION = """
query One($id: ID!) {
  conversation(id: $id) {
    title messageCount status
    agent { name } user { email }
    lastMessage { role content status }
    messages(first: 10) {
      totalCount
      edges { node { role content status model usage { prompt completion total } cost
                     toolCalls { callId toolName server status result durationMs }
                     attachments { name size } } }
    }
  }
}
"""


async def test_a_chat_with_a_streamed_reply_and_a_tool_call(
    chats: Scratch, client: httpx.AsyncClient, services: Services
) -> None:
    # given
    agent = await chats.create_agent("chat")
    conversation, question = await start_chat(
        client,
        agent,
        "What is 6 x 7?",
        attachments=[
            {
                "name": "sums.txt",
                "mediaType": "text/plain",
                "size": 12,
                "checksum": "sha256:00",
                "storageUrl": "s3://bucket/sums.txt",
            }
        ],
    )

    # when: the engine streams a reply, retrying a chunk, and calls a tool on the way
    reply = await begin(client, conversation, question)
    assert (await chunk(client, reply, 1, "It is "))["chatMessage"]["content"] == "It is "
    assert (await chunk(client, reply, 1, "It is "))["chatMessage"]["content"] == "It is "  # retry
    skipped = await chunk(client, reply, 3, "!")
    tool = {"callId": "c1", "toolName": "multiply", "server": "calc", "status": "RUNNING",
            "arguments": {"a": 6, "b": 7}}  # fmt: skip
    started = await run(client, TOOL, id=reply, input=tool)
    ended = await run(
        client, TOOL, id=reply, input={**tool, "status": "SUCCEEDED", "result": {"value": 42}}
    )
    await chunk(client, reply, 2, "42")
    await chunk(client, reply, 3, "!")
    finished = await run(client, FINISH, id=reply)
    again = await run(client, FINISH, id=reply)  # a retried finish

    # then
    assert (skipped["__typename"], skipped["expectedSeq"]) == ("ChunkOutOfOrder", 2)
    assert started["toolCall"]["status"] == "RUNNING"
    assert ended["toolCall"]["status"] == "SUCCEEDED"
    assert ended["toolCall"]["id"] == started["toolCall"]["id"]
    assert finished["chatMessage"] == {
        "content": "It is 42!",
        "status": "COMPLETE",
        "usage": {"total": 15},
        "cost": 0.25,
        "model": "gpt-test",
    }
    assert again == finished
    read = (await gql(client, CONVERSATION, {"id": conversation}))["conversation"]
    assert read["messageCount"] == 2
    assert read["agent"]["name"] == chats.name("chat")
    assert read["user"]["email"] == "admin@acme.example"
    assert read["lastMessage"] == {"role": "AGENT", "content": "It is 42!", "status": "COMPLETE"}
    first, second = (edge["node"] for edge in read["messages"]["edges"])
    assert first["attachments"] == [{"name": "sums.txt", "size": 12}]
    assert second["toolCalls"][0]["result"] == {"value": 42}
    assert second["usage"] == {"prompt": 10, "completion": 5, "total": 15}
    async with services.postgres.session() as session:
        actions = set(
            (await session.scalars(select(AuditLogEntry.action).where(
                AuditLogEntry.action.startswith("conversation.")))).all()
        )  # fmt: skip
    assert "conversation.start" in actions


async def test_a_retried_post_is_one_message(chats: Scratch, client: httpx.AsyncClient) -> None:
    conversation, _ = await start_chat(client, await chats.create_agent())
    first = await run(client, POST, id=conversation, content="again?", key="k-1")
    second = await run(client, POST, id=conversation, content="again?", key="k-1")
    other = await run(client, POST, id=conversation, content="something else", key="k-1")
    assert first == second
    assert other["__typename"] == "IdempotencyConflict"
    count = (await gql(client, "query($id: ID!) { conversation(id: $id) { messageCount } }",
                       {"id": conversation}))["conversation"]["messageCount"]  # fmt: skip
    assert count == 2


MESSAGES_PAGE = """
query Page($id: ID!, $last: Int, $before: String) {
  conversation(id: $id) {
    messages(last: $last, before: $before) {
      pageInfo { hasPreviousPage startCursor }
      edges { node { content } }
    }
  }
}
"""


async def test_messages_load_earlier_pages_from_the_newest(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    conversation, _ = await start_chat(client, await chats.create_agent(), "m1")
    for index in range(2, 8):
        await run(client, POST, id=conversation, content=f"m{index}")

    newest = await gql(client, MESSAGES_PAGE, {"id": conversation, "last": 3})
    page = newest["conversation"]["messages"]
    earlier = await gql(
        client,
        MESSAGES_PAGE,
        {"id": conversation, "last": 3, "before": page["pageInfo"]["startCursor"]},
    )

    assert [e["node"]["content"] for e in page["edges"]] == ["m5", "m6", "m7"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    assert [e["node"]["content"] for e in earlier["conversation"]["messages"]["edges"]] == [
        "m2",
        "m3",
        "m4",
    ]


async def test_a_branch_forks_at_a_message_and_the_original_stays(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    agent = await chats.create_agent()
    conversation, first = await start_chat(client, agent, "root")
    await run(client, POST, id=conversation, content="original line")

    branch = await run(client, BRANCH, id=conversation, **{"from": first})
    await run(client, POST, id=branch["conversation"]["id"], content="other line")

    assert branch["conversation"]["parent"] == {"id": conversation}
    assert branch["conversation"]["forkedFrom"] == {"id": first}
    read = await gql(
        client,
        "query($id: ID!) { conversation(id: $id) { messageCount branches { id messageCount } } }",
        {"id": conversation},
    )
    assert read["conversation"] == {
        "messageCount": 2,
        "branches": [{"id": branch["conversation"]["id"], "messageCount": 1}],
    }


VISIBLE = "query($id: ID!) { conversation(id: $id) { id } }"


async def test_a_conversation_is_its_users_and_shared_through_a_project(
    chats: Scratch, client: httpx.AsyncClient, app: FastAPI, services: Services
) -> None:
    # given: a user's private conversation, and one held in a project
    agent = await chats.create_agent()
    project = await create_project(client, chats.name("project"))
    async with client_as(app, services, USER) as user, client_as(app, services, VIEWER) as viewer:
        private, _ = await start_chat(user.http, agent, "mine")
        shared, _ = await start_chat(user.http, agent, "ours", project=project)

        # then: the viewer sees only the shared one; the admin sees both
        seen_by_viewer = {c: (await viewer.post(VISIBLE, {"id": c}))["data"]["conversation"]
                          for c in (private, shared)}  # fmt: skip
        assert seen_by_viewer == {private: None, shared: {"id": shared}}
        for conversation in (private, shared):
            assert (await gql(client, VISIBLE, {"id": conversation}))["conversation"]
        listed = await viewer.post(
            "query($a: ID!) { conversations(filter: {agentId: $a}) { totalCount } }", {"a": agent}
        )
        assert listed["data"]["conversations"]["totalCount"] == 1

        # and: a viewer may not post, another member may not change the user's conversation
        refused = await viewer.post(POST, {"id": shared, "content": "hi"})
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        renamed = await run(
            client,
            'mutation($id: ID!) { renameConversation(id: $id, title: "x") { __typename } }',
            id=private,
        )
        assert renamed["__typename"] == "ConversationPayload"  # admins may

        # and: deleting the project makes the conversation private again
        await run(
            client, "mutation($id: ID!) { deleteProject(id: $id) { __typename } }", id=project
        )
        gone = await viewer.post(VISIBLE, {"id": shared})
        assert gone["data"]["conversation"] is None


async def test_delete_hides_and_restore_brings_back(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    agent = await chats.create_agent()
    conversation, _ = await start_chat(client, agent)
    count = "query($a: ID!, $d: Boolean!) { conversations(filter: {agentId: $a, includeDeleted: $d}) { totalCount } }"  # noqa: E501

    await run(client, "mutation($id: ID!) { deleteConversation(id: $id) { __typename } }",
              id=conversation)  # fmt: skip
    hidden = (await gql(client, count, {"a": agent, "d": False}))["conversations"]["totalCount"]
    kept = (await gql(client, count, {"a": agent, "d": True}))["conversations"]["totalCount"]
    posted = await run(client, POST, id=conversation, content="still there?")
    await run(client, "mutation($id: ID!) { restoreConversation(id: $id) { __typename } }",
              id=conversation)  # fmt: skip
    back = (await gql(client, count, {"a": agent, "d": False}))["conversations"]["totalCount"]

    assert (hidden, kept, back) == (0, 1, 1)
    assert posted["__typename"] == "InvalidTransition"


async def test_projects_attach_agents(chats: Scratch, client: httpx.AsyncClient) -> None:
    agent = await chats.create_agent()
    project = await create_project(client, chats.name("p"))
    attach = "mutation($p: ID!, $a: ID!) { attachAgentToProject(projectId: $p, agentId: $a) { __typename } }"  # noqa: E501
    await run(client, attach, p=project, a=agent)
    await run(client, attach, p=project, a=agent)  # twice is once
    await start_chat(client, agent, project=project)

    read = await gql(
        client,
        "query($id: ID!) { project(id: $id) { agents { id } conversations { totalCount } } }",
        {"id": project},
    )

    assert read["project"] == {"agents": [{"id": agent}], "conversations": {"totalCount": 1}}


async def test_the_seed_has_chats_with_branches_tool_calls_and_event_logs(
    services: Services, seeded: Any
) -> None:
    from sqlalchemy import func

    from models.sql import Conversation, ConversationEvent, ToolCall

    async with services.postgres.session() as session:
        branches = await session.scalar(
            select(func.count()).where(Conversation.parent_id.is_not(None))
        )
        calls = await session.scalar(select(func.count()).select_from(ToolCall))
        logs = (
            await session.execute(
                select(
                    Conversation.last_event_seq,
                    func.array_agg(ConversationEvent.seq.distinct()),
                )
                .join(ConversationEvent, ConversationEvent.conversation_id == Conversation.id)
                .group_by(Conversation.id)
            )
        ).all()

    assert seeded.conversations > 0
    assert branches and calls
    assert logs
    for last, seqs in logs:
        assert sorted(seqs) == list(range(1, last + 1))
