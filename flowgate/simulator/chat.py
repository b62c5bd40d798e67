"""The demo engine's chat side: it answers the user messages of your conversations as an
external engine would, through the API only. Every `interval` seconds it looks for
conversations whose last message is a user's, begins a reply (with an idempotency key),
streams it in numbered chunks with a tool call on the way, and finishes it; a reply the user
stopped is left as it is (its next chunk is refused)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import httpx
import structlog

from flowgate.simulator.gateway import Gateway, GatewayError

log = structlog.get_logger(__name__)

PENDING = """
query PendingChats {
  conversations(first: 50, filter: {status: [ACTIVE]}) {
    edges { node { id title lastMessage { id role content } } }
  }
}
"""
BEGIN = """
mutation Begin($id: ID!, $to: ID!, $key: String) {
  beginReply(conversationId: $id, replyTo: $to, idempotencyKey: $key) {
    __typename ... on MessagePayload { chatMessage { id } }
  }
}
"""
CHUNK = """
mutation Chunk($id: ID!, $seq: Int!, $text: String!) {
  appendReplyChunk(messageId: $id, seq: $seq, text: $text) { __typename }
}
"""
TOOL = """
mutation Tool($id: ID!, $input: ToolCallInput!) {
  recordToolCall(messageId: $id, input: $input) { __typename }
}
"""
FINISH = """
mutation Finish($id: ID!, $usage: UsageInput, $cost: Float!) {
  finishReply(messageId: $id, usage: $usage, cost: $cost, model: "sim-1", provider: "simulated") {
    __typename
  }
}
"""


def reply_text(question: str) -> str:
    """What the simulated agent says: it quotes the question, so a demo shows which
    message it answers."""
    quoted = " ".join(question.split())[:80]
    return (
        f'You asked: "{quoted}". I looked it up with the search tool, and here is what I '
        "found: everything is running as expected, and the details are in the tool call."
    )


class ChatSimulator:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        interval: float = 1.0,
        chunk_delay: float = 0.15,
        tag: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.gateway = Gateway(http, tag=tag)
        self.interval = interval
        self.chunk_delay = chunk_delay
        self.random = random.Random(seed)
        self.answered = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="chat-simulator")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _forever(self) -> None:
        while True:
            try:
                await self.answer_pending()
            except (GatewayError, httpx.HTTPError) as error:
                log.warning("chat simulator pass failed", error=str(error))
            await asyncio.sleep(self.interval)

    async def answer_pending(self) -> int:
        """Answer every conversation waiting for the agent; how many were answered."""
        data = await self.gateway.query(PENDING)
        waiting = [
            edge["node"]
            for edge in data["conversations"]["edges"]
            if (edge["node"]["lastMessage"] or {}).get("role") == "USER"
        ]
        for conversation in waiting:
            await self.answer(conversation["id"], conversation["lastMessage"])
        return len(waiting)

    async def answer(self, conversation_id: str, question: dict[str, Any]) -> None:
        begun = await self.gateway.mutate(
            "beginReply", BEGIN, {"id": conversation_id, "to": question["id"]}
        )
        if begun["__typename"] != "MessagePayload":
            return
        reply = begun["chatMessage"]["id"]
        words = reply_text(question["content"]).split(" ")
        pieces = [" ".join(words[i : i + 4]) + " " for i in range(0, len(words), 4)]
        for seq, piece in enumerate(pieces, start=1):
            if seq == 3:
                await self._tool_call(reply)
            answer = await self._post(
                "appendReplyChunk", CHUNK, {"id": reply, "seq": seq, "text": piece}
            )
            if answer["__typename"] != "MessagePayload":
                return  # stopped by the user (InvalidTransition): leave it as it is
            await asyncio.sleep(self.chunk_delay)
        usage = {"promptTokens": self.random.randint(100, 900), "completionTokens": len(words)}
        await self._post("finishReply", FINISH, {"id": reply, "usage": usage, "cost": 0.0012})
        self.answered += 1

    async def _tool_call(self, reply: str) -> None:
        call = {
            "callId": "search-1",
            "toolName": "search",
            "server": "simulated-mcp",
            "arguments": {"query": "status"},
        }
        await self._post(
            "recordToolCall", TOOL, {"id": reply, "input": {**call, "status": "RUNNING"}}
        )
        await asyncio.sleep(self.chunk_delay)
        done = {**call, "status": "SUCCEEDED", "result": {"hits": 3}, "durationMs": 140}
        await self._post("recordToolCall", TOOL, {"id": reply, "input": done})

    async def _post(self, field: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        # Chunks and tool calls are retry-safe by their own numbers and ids: no key needed.
        data = await self.gateway.query(document, variables)
        result: dict[str, Any] = data[field]
        return result
