"""Bad input to the conversation mutations: a clear error naming the field and the problem,
and nothing half-written (counts are compared before and after)."""

from __future__ import annotations

from typing import Any

import httpx

from resolvers.conversations.limits import MAX_CONTENT
from tests.conversations import (
    BRANCH,
    FINISH,
    POST,
    START,
    STOP,
    TOOL,
    begin,
    chunk,
    run,
    start_chat,
)
from tests.scratch import Scratch, gql

COUNTS = """
query($id: ID!) { conversation(id: $id) { messageCount lastMessage { content status } } }
"""


def _issues(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return [(issue["path"], issue["code"]) for issue in result["issues"]]


async def _state(client: httpx.AsyncClient, conversation: str) -> dict[str, Any]:
    return (await gql(client, COUNTS, {"id": conversation}))["conversation"]  # type: ignore[no-any-return]


async def test_empty_and_oversized_content_are_refused(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    agent = await chats.create_agent()
    conversation, _ = await start_chat(client, agent)
    before = await _state(client, conversation)

    empty = await run(client, POST, id=conversation, content="   ")
    huge = await run(client, POST, id=conversation, content="x" * (MAX_CONTENT + 1))
    nul = await run(client, POST, id=conversation, content="a\x00b")
    no_start = await run(client, START, agent=agent, message="")

    assert _issues(empty) == [("content", "REQUIRED")]
    assert _issues(huge) == [("content", "TOO_LONG")]
    assert _issues(nul) == [("content", "INVALID")]
    assert _issues(no_start) == [("message", "REQUIRED")]
    assert await _state(client, conversation) == before


async def test_unknown_parents_and_foreign_messages_are_refused(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    agent = await chats.create_agent()
    conversation, first = await start_chat(client, agent, "one")
    other, other_first = await start_chat(client, agent, "two")
    before = await _state(client, conversation)

    not_an_id = await run(client, POST, id=conversation, content="hi", parent="nonsense")
    elsewhere = await run(client, POST, id=conversation, content="hi", parent=other_first)
    branch = await run(client, BRANCH, id=conversation, **{"from": other_first})
    reply = await run(
        client,
        "mutation($c: ID!, $m: ID!) { beginReply(conversationId: $c, replyTo: $m) "
        "{ __typename ... on ValidationError { issues { path code message } } } }",
        c=conversation,
        m=other_first,
    )
    unknown_agent = await run(client, START, agent=await chats.foreign_agent_id(), message="hi")

    assert _issues(not_an_id) == [("parentMessageId", "INVALID_ID")]
    assert _issues(elsewhere) == [("parentMessageId", "NOT_FOUND")]
    assert _issues(branch) == [("fromMessageId", "NOT_FOUND")]
    assert _issues(reply) == [("replyTo", "NOT_FOUND")]
    assert _issues(unknown_agent) == [("agentId", "NOT_FOUND")]
    assert await _state(client, conversation) == before
    assert first != other_first and other


async def test_chunks_out_of_order_or_duplicated_leave_exact_text(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)

    await chunk(client, reply, 1, "a")
    ahead = await chunk(client, reply, 4, "d")
    zero = await chunk(client, reply, 0, "?")
    await chunk(client, reply, 2, "b")
    duplicate = await chunk(client, reply, 2, "b")
    too_big = await chunk(client, reply, 3, "x" * 20_001)
    await chunk(client, reply, 3, "c")

    assert ahead["__typename"] == "ChunkOutOfOrder"
    assert ahead["expectedSeq"] == 2
    assert _issues(zero) == [("seq", "OUT_OF_RANGE")]
    assert duplicate["chatMessage"]["content"] == "ab"
    assert _issues(too_big) == [("text", "TOO_LONG")]
    assert (await _state(client, conversation))["lastMessage"] == {
        "content": "abc",
        "status": "STREAMING",
    }


async def test_after_a_stop_the_reply_takes_nothing_more(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)
    await chunk(client, reply, 1, "so far")

    stopped = await run(client, STOP, id=reply)
    again = await run(client, STOP, id=reply)
    late_chunk = await chunk(client, reply, 2, " and more")
    late_tool = await run(
        client,
        TOOL,
        id=reply,
        input={"callId": "t", "toolName": "x", "server": "s", "status": "RUNNING"},
    )
    finish = await run(client, FINISH, id=reply)
    stop_question = await run(client, STOP, id=question)

    assert stopped["chatMessage"] == {"content": "so far", "status": "STOPPED"}
    assert again == stopped
    assert late_chunk["__typename"] == "InvalidTransition"
    assert late_tool["__typename"] == "InvalidTransition"
    assert finish["__typename"] == "InvalidTransition"
    assert stop_question["__typename"] == "InvalidTransition"
    assert (await _state(client, conversation))["lastMessage"] == {
        "content": "so far",
        "status": "STOPPED",
    }


async def test_tool_call_input_is_checked(chats: Scratch, client: httpx.AsyncClient) -> None:
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)

    result = await run(
        client,
        "mutation($id: ID!, $input: ToolCallInput!) { recordToolCall(messageId: $id, "
        "input: $input) { __typename ... on ValidationError { issues { path code } } } }",
        id=reply,
        input={
            "callId": "",
            "toolName": "t",
            "server": "s",
            "status": "RUNNING",
            "arguments": {"$where": 1},
            "durationMs": -1,
            "cost": 1e12,
        },
    )

    assert {tuple(i.values()) for i in result["issues"]} == {
        ("input.callId", "REQUIRED"),
        ("input.arguments", "INVALID"),
        ("input.durationMs", "OUT_OF_RANGE"),
        ("input.cost", "OUT_OF_RANGE"),
    }
