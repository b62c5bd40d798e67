"""conversationEvents and agentConversationRequests through a real websocket client: stored
then live, once and in order, resumable, an explicit resync when history is gone, chunks
merged for slow readers with the exact final text, and a reconnect storm."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from flowgate.services import Services
from models.sql import ConversationEvent
from resolvers.ids import from_global_id
from tests.conversations import FINISH, POST, STOP, begin, chunk, run, start_chat
from tests.scratch import Scratch
from tests.ws import GraphQLWebSocket, SubscriptionError, connect

EVENTS = """
subscription Chat($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on ConversationEvent { cursor seq type messageId text chunks payload
                               chatMessage { status } }
    ... on ResyncRequired { message oldestCursor }
  }
}
"""
REQUESTS = """
subscription Engine($agents: [ID!]) {
  agentConversationRequests(agentIds: $agents) { type text messageId conversationId }
}
"""


def _url(live_server: str) -> str:
    return f"ws://{live_server}/graphql"


async def _read(
    ws: GraphQLWebSocket, operation: str, until: Any, field: str = "conversationEvents"
) -> list[dict[str, Any]]:
    """Events until `until(event)` holds for the last one."""
    received: list[dict[str, Any]] = []
    async for payload in ws.results(operation):
        if payload.get("errors"):
            raise SubscriptionError(payload["errors"])
        received.append(payload["data"][field])
        if until(received[-1]):
            break
    return received


def _finished(event: dict[str, Any]) -> bool:
    return event.get("type") in {"REPLY_FINISHED", "REPLY_STOPPED"}


def _text(events: list[dict[str, Any]], message_id: str) -> str:
    """The reply's text as a client assembles it: chunks appended at their offset."""
    text = ""
    for event in events:
        if event.get("type") == "REPLY_CHUNK" and event["messageId"] == message_id:
            # each (merged) chunk starts where the text so far ends: no gap, no overlap
            assert event["payload"]["offset"] == len(text), event
            text += event["text"]
    return text


async def test_stored_then_live_each_once_with_the_exact_text(
    chats: Scratch, client: httpx.AsyncClient, live_server: str, admin_payload: dict[str, str]
) -> None:
    # given: a reply half written before anyone subscribes
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)
    for seq, piece in enumerate(["Hel", "lo, "], start=1):
        await chunk(client, reply, seq, piece)

    async with connect(_url(live_server), admin_payload) as ws:
        operation = await ws.subscribe(EVENTS, {"id": conversation})

        async def write_the_rest() -> None:
            await asyncio.sleep(0.3)
            for seq, piece in enumerate(["wor", "ld", "!"], start=3):
                await chunk(client, reply, seq, piece)
            await run(client, FINISH, id=reply)

        # when
        received, _ = await asyncio.gather(_read(ws, operation, _finished), write_the_rest())

    # then: in order, no gap, no repeat; the stored chunks arrived merged
    seqs = [event["seq"] for event in received]
    assert seqs == sorted(set(seqs))
    assert received[0]["type"] == "MESSAGE_CREATED"
    assert received[0]["text"] == "Hello"
    assert received[2] == {**received[2], "type": "REPLY_CHUNK", "text": "Hello, ", "chunks": 2}
    assert sum(e["chunks"] for e in received if e["type"] == "REPLY_CHUNK") == 5
    assert _text(received, reply) == "Hello, world!"
    assert received[-1]["chatMessage"]["status"] == "COMPLETE"


async def test_resume_from_a_cursor_and_resync_when_history_is_gone(
    chats: Scratch,
    client: httpx.AsyncClient,
    live_server: str,
    admin_payload: dict[str, str],
    services: Services,
) -> None:
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)
    await chunk(client, reply, 1, "one ")
    async with connect(_url(live_server), admin_payload) as ws:
        first = await _read(
            ws, await ws.subscribe(EVENTS, {"id": conversation}), lambda e: e["seq"] == 2
        )

    # when: more is written while the client is away, and it comes back with its cursor
    await chunk(client, reply, 2, "two")
    await run(client, FINISH, id=reply)
    async with connect(_url(live_server), admin_payload) as ws:
        operation = await ws.subscribe(EVENTS, {"id": conversation, "after": first[-1]["cursor"]})
        second = await _read(ws, operation, _finished)

    # then: the two sessions together are the log, each event once (the stored chunks 3
    # and 4 arrive merged as one, numbered 4); the text is exact
    assert [e["seq"] for e in first + second] == [1, 2, 4, 5]
    assert [e["chunks"] for e in second] == [2, 0]
    assert _text(first + second, reply) == "one two"

    # and: once the events after a cursor are gone, the client is told to resync
    _, local = from_global_id(conversation)
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            delete(ConversationEvent).where(
                ConversationEvent.conversation_id == local, ConversationEvent.seq <= 3
            )
        )
    async with connect(_url(live_server), admin_payload) as ws:
        operation = await ws.subscribe(EVENTS, {"id": conversation, "after": first[0]["cursor"]})
        resync = [payload async for payload in ws.results(operation)]
    item = resync[0]["data"]["conversationEvents"]
    assert item["__typename"] == "ResyncRequired"
    assert item["oldestCursor"] is not None


async def test_unknown_or_invisible_conversations_get_an_error(
    chats: Scratch, live_server: str, admin_payload: dict[str, str]
) -> None:
    unknown = "Q29udmVyc2F0aW9uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"
    for conversation in (unknown, "garbage"):
        async with connect(_url(live_server), admin_payload) as ws:
            with pytest.raises(SubscriptionError) as failure:
                await _read(ws, await ws.subscribe(EVENTS, {"id": conversation}), _finished)
        codes = {e.get("extensions", {}).get("code") for e in failure.value.errors}
        assert codes <= {"NOT_FOUND", "BAD_USER_INPUT"}
        assert codes


async def test_the_engine_hears_user_messages_and_stops_for_its_agents(
    chats: Scratch, client: httpx.AsyncClient, live_server: str, admin_payload: dict[str, str]
) -> None:
    agent = await chats.create_agent("engine")
    other_agent = await chats.create_agent("other")
    conversation, question = await start_chat(client, agent)
    reply = await begin(client, conversation, question)
    async with connect(_url(live_server), admin_payload) as ws:
        operation = await ws.subscribe(REQUESTS, {"agents": [agent]})
        await asyncio.sleep(0.3)  # registered (the protocol has no acknowledgement)

        # when: a message to another agent, one to this agent, and a stop
        await start_chat(client, other_agent, "not for you")
        await run(client, POST, id=conversation, content="and also?")
        await run(client, STOP, id=reply)
        heard = await _read(
            ws, operation, lambda e: e["type"] == "REPLY_STOPPED", "agentConversationRequests"
        )

    # then: only this agent's user message and the stop, with the ids to act on
    assert [(e["type"], e["text"]) for e in heard] == [
        ("MESSAGE_CREATED", "and also?"),
        ("REPLY_STOPPED", None),
    ]
    assert heard[1]["messageId"] == reply
    assert heard[0]["conversationId"] == conversation


async def test_a_reconnect_storm_loses_nothing(
    chats: Scratch, client: httpx.AsyncClient, live_server: str, admin_payload: dict[str, str]
) -> None:
    """Subscribers that drop and come back with their cursor, again and again, while a reply
    of 120 chunks streams: each ends with every chunk once and the exact text."""
    subscribers, chunks = 12, 120
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)
    pieces = [f"{index:03d} " for index in range(1, chunks + 1)]

    async def storm(index: int) -> tuple[int, str, int]:
        received: list[dict[str, Any]] = []
        cursor: str | None = None
        reconnects = 0
        while not received or not _finished(received[-1]):
            async with connect(_url(live_server), admin_payload) as ws:
                operation = await ws.subscribe(EVENTS, {"id": conversation, "after": cursor})
                # read a few events, then drop the socket (the last time: read to the end)
                seen = [0]
                limit = 3 + index % 5

                def enough(
                    event: dict[str, Any], seen: list[int] = seen, limit: int = limit
                ) -> bool:
                    seen[0] += 1
                    return _finished(event) or seen[0] >= limit

                received += await _read(ws, operation, enough)
                cursor = received[-1]["cursor"]
            reconnects += 1
        seqs = [e["seq"] for e in received]
        assert seqs == sorted(set(seqs)), "an event twice or out of order"
        delivered = sum(e["chunks"] for e in received if e["type"] == "REPLY_CHUNK")
        return delivered, _text(received, reply), reconnects

    async def write() -> None:
        for seq, piece in enumerate(pieces, start=1):
            await chunk(client, reply, seq, piece)
        await run(client, FINISH, id=reply)

    results, _ = await asyncio.gather(
        asyncio.gather(*(storm(index) for index in range(subscribers))), write()
    )
    for delivered, text, reconnects in results:
        assert (delivered, text) == (chunks, "".join(pieces))
        assert reconnects >= 1
    print(
        f"reconnect storm: {subscribers} subscribers, {chunks} chunks each expected, "
        f"delivered {[r[0] for r in results]}, reconnects {[r[2] for r in results]}"
    )


async def test_only_admins_hear_every_users_messages(
    services: Services, live_server: str, seeded: object
) -> None:
    from tests.auth import USER, api_key_for

    secret, _ = await api_key_for(services, USER, "engine-as-user")
    async with connect(_url(live_server), {"Authorization": f"Bearer {secret}"}) as ws:
        operation = await ws.subscribe(REQUESTS, {"agents": None})
        with pytest.raises(SubscriptionError) as refused:
            await _read(ws, operation, _finished, "agentConversationRequests")
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["FORBIDDEN"]
