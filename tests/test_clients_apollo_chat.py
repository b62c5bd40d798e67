"""Apollo Client (npm `@apollo/client` with `graphql-ws`, run by Node) as a chat frontend with
a user's API key, against the session's gateway on a real port (`tests/clients/apollo_chat.mjs`):
it starts a conversation, posts, follows the streamed reply, loses its socket mid-reply and
resumes from its cursor; in a second conversation it stops a reply mid-stream. This module is
the engine (the admin's key): it writes the reply step by step, each step waiting for the
frontend's word, so the drop and the stop really happen while the reply streams. What the
frontend received is compared with the stores."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from flowgate.services import Services
from models.enums import MessageStatus
from models.sql import ConversationEvent, Message
from resolvers.ids import from_global_id
from tests.auth import USER, api_key_for
from tests.clients_setup import CLIENTS, node_command, node_result
from tests.conversations import CHUNK, FINISH, TOOL, begin, run
from tests.scratch import Scratch

SCRIPT = "apollo_chat.mjs"
STEP_TIMEOUT = 60.0


class Frontend:
    """The Node script as a process to talk to: it prints `{"step": ...}` lines when it
    reaches a point and waits for a JSON line on stdin before it goes on."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, env: dict[str, str]) -> Frontend:
        process = await asyncio.create_subprocess_exec(
            *node_command(SCRIPT),
            cwd=CLIENTS,
            env={**os.environ, **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def reached(self, step: str) -> dict[str, Any]:
        """The script's next line, which must announce `step`."""
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), STEP_TIMEOUT)
        if not line:
            await self.result()  # fails with the script's exit code and stderr
        said: dict[str, Any] = json.loads(line)
        assert said.get("step") == step, said
        return said

    async def tell(self, **word: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(word).encode() + b"\n")
        await self.process.stdin.drain()

    async def result(self) -> Any:
        stdout, stderr = await asyncio.wait_for(self.process.communicate(), STEP_TIMEOUT)
        return node_result(SCRIPT, self.process.returncode, stdout, stderr)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


async def stored_events(services: Services, conversation: str) -> list[ConversationEvent]:
    _, local = from_global_id(conversation)
    async with services.postgres.session() as session:
        rows = await session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == local)
            .order_by(ConversationEvent.seq)
        )
        return list(rows)


async def last_seq(services: Services, conversation: str) -> int:
    return (await stored_events(services, conversation))[-1].seq


async def stored_message(services: Services, message: str) -> Message:
    _, local = from_global_id(message)
    async with services.postgres.session() as session:
        found = await session.get(Message, local)
    assert found is not None
    return found


def expanded(received: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The stored events a client's events stand for: merged reply chunks are the run of
    chunk events ending at their `seq`."""
    out: list[tuple[int, str]] = []
    for event in received:
        count = event["chunks"] if event["type"] == "REPLY_CHUNK" else 1
        out += [(seq, event["type"]) for seq in range(event["seq"] - count + 1, event["seq"] + 1)]
    return out


def assembled(received: list[dict[str, Any]], message: str) -> str:
    """The reply's text as the frontend builds it: each chunk appended where the text ends."""
    text = ""
    for event in received:
        if event["type"] == "REPLY_CHUNK" and event["messageId"] == message:
            assert event["payload"]["offset"] == len(text), event
            text += event["text"]
    return text


@dataclass
class Engine:
    """The agent's side (the admin's key), each step waiting for the frontend's word."""

    client: httpx.AsyncClient
    services: Services
    frontend: Frontend
    # what it saw on the way, for the assertions
    mid_drop: Message | None = None
    away: list[int] = field(default_factory=list)

    async def chunks(self, reply: str, pieces: list[str], first: int) -> None:
        for seq, piece in enumerate(pieces, start=first):
            await run(self.client, CHUNK, id=reply, seq=seq, text=piece)

    async def answer_across_a_drop(self) -> tuple[str, str]:
        """The reply to the posted message, half before the frontend's socket drops, a
        part while it is away and the rest once it resumed: the conversation and reply."""
        tool = {"callId": "search-1", "toolName": "search", "server": "docs",
                "status": "RUNNING", "arguments": {"q": "cursor"}}  # fmt: skip
        posted = await self.frontend.reached("posted")
        conversation = posted["conversationId"]
        reply = await begin(self.client, conversation, posted["messageId"])
        await self.chunks(reply, ["A cursor ", "marks "], 1)
        await run(self.client, TOOL, id=reply, input=tool)
        await self.frontend.tell(dropAfter=await last_seq(self.services, conversation))
        await self.frontend.reached("dropped")
        self.mid_drop = await stored_message(self.services, reply)
        away_from = await last_seq(self.services, conversation) + 1
        await run(self.client, TOOL, id=reply, input={**tool, "status": "SUCCEEDED"})
        await self.chunks(reply, ["where ", "you ", "stopped "], 3)
        self.away = list(range(away_from, await last_seq(self.services, conversation) + 1))
        await self.frontend.tell(resume=True)
        await self.frontend.reached("resumed")
        await self.chunks(reply, ["reading", "."], 6)
        await run(self.client, FINISH, id=reply)
        return conversation, reply

    async def answer_until_stopped(self) -> tuple[str, str]:
        """Two chunks of a reply, then the frontend's stop: the conversation and reply."""
        started = await self.frontend.reached("started")
        conversation = started["conversationId"]
        reply = await begin(self.client, conversation, started["messageId"])
        await self.chunks(reply, ["Once upon ", "a time"], 1)
        stop_after = await last_seq(self.services, conversation)
        await self.frontend.tell(replyId=reply, stopAfter=stop_after)
        return conversation, reply


async def test_apollo_follows_a_reply_across_a_dropped_socket_and_stops_another(
    scratch: Scratch,
    client: httpx.AsyncClient,
    services: Services,
    live_server: str,
) -> None:
    # given: an agent, and a frontend signed in as a user (not the engine's admin)
    agent = await scratch.create_agent("apollo-chat")
    user_key, _ = await api_key_for(services, USER, "apollo-chat")
    frontend = await Frontend.start(
        {"FLOWGATE_URL": f"http://{live_server}", "FLOWGATE_TOKEN": user_key, "AGENT_ID": agent}
    )
    engine = Engine(client, services, frontend)
    try:
        # when: the engine answers the posted message in pieces, around the frontend's drop
        conversation, reply = await engine.answer_across_a_drop()
        # and: in a second conversation, the user stops the reply after two chunks
        stopped_chat, cut = await engine.answer_until_stopped()
        seen = await frontend.result()
    finally:
        frontend.kill()
    late_chunk = await run(client, CHUNK, id=cut, seq=3, text=" there was")
    late_finish = await run(client, FINISH, id=cut)

    # then: the socket really dropped while the reply was streaming
    chat = seen["chat"]
    assert "error" in chat["dropped"], chat["dropped"]
    assert engine.mid_drop is not None
    assert engine.mid_drop.status is MessageStatus.STREAMING
    assert engine.mid_drop.content == "A cursor marks "
    # every stored event arrived exactly once, in order, across the two sockets, and those
    # written while the frontend was away came with the resumed subscription
    stored = await stored_events(services, conversation)
    received = expanded(chat["beforeDrop"]) + expanded(chat["afterResume"])
    assert received == [(event.seq, event.type.upper()) for event in stored]
    assert engine.away
    assert set(engine.away) <= {seq for seq, _ in expanded(chat["afterResume"])}
    # the text the frontend assembled is the stored reply, complete
    final = "A cursor marks where you stopped reading."
    assert (await stored_message(services, reply)).content == final
    assert assembled(chat["beforeDrop"] + chat["afterResume"], reply) == final
    nodes = [edge["node"] for edge in chat["messages"]["edges"]]
    assert [(n["role"], n["content"], n["status"]) for n in nodes] == [
        ("USER", "Hello", "COMPLETE"),
        ("USER", "Explain cursors, please.", "COMPLETE"),
        ("AGENT", final, "COMPLETE"),
    ]

    # and: the stop ended the reply with what was written, and the engine can add no more
    stop = seen["stop"]
    assert stop["stopped"] == {
        "__typename": "Message",
        "id": cut,
        "content": "Once upon a time",
        "status": "STOPPED",
    }
    stored_stop = await stored_events(services, stopped_chat)
    assert expanded(stop["events"]) == [(event.seq, event.type.upper()) for event in stored_stop]
    assert stored_stop[-1].type == "reply_stopped"
    assert assembled(stop["events"], cut) == "Once upon a time"
    cut_message = await stored_message(services, cut)
    assert (cut_message.status, cut_message.content) == (MessageStatus.STOPPED, "Once upon a time")
    assert late_chunk["__typename"] == "InvalidTransition", late_chunk
    assert late_finish["__typename"] == "InvalidTransition", late_finish
