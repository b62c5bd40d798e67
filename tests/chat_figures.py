"""Chat replies with known usage on two known days, and what the store holds of them: the
data of tests/test_usage_chats.py and tests/test_dashboard_chats.py.

Replies are made through the API as an engine makes them (start, begin, finish or stop);
their `created_at` is then moved to two days of 2021, where neither the seed nor another
test writes anything, so that a window over those days holds exactly this data."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from flowgate.services import Services
from models.enums import MessageRole
from models.sql import Conversation, Message
from resolvers.ids import from_global_id
from tests.conversations import STOP, begin, open_chats, run, start_chat
from tests.scratch import Scratch

DAY1 = datetime(2021, 3, 2, tzinfo=UTC)  # a Tuesday: its week starts on Monday 2021-03-01
DAY2 = DAY1 + timedelta(days=1)
WINDOW = {"since": DAY1.isoformat(), "until": (DAY2 + timedelta(days=1)).isoformat()}

FINISH = """
mutation Finish($id: ID!, $status: MessageStatus!, $prompt: Int!, $completion: Int!,
                $cost: Float!, $model: String, $provider: String) {
  finishReply(messageId: $id, status: $status, cost: $cost, model: $model, provider: $provider,
              usage: {promptTokens: $prompt, completionTokens: $completion}) {
    __typename
    ... on Error { code message }
  }
}
"""


def local(global_id: str) -> uuid.UUID:
    return from_global_id(global_id)[1]


@dataclass
class Chats:
    """What `make` created: global ids, and the local ids of the conversations."""

    agents: list[str]
    models: list[str]
    providers: list[str]
    conversations: list[uuid.UUID] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


async def reply(
    services: Services,
    client: httpx.AsyncClient,
    agent: str,
    at: datetime,
    finish: dict[str, Any] | None,
    **start: Any,
) -> tuple[uuid.UUID, str]:
    """A chat of one question and one reply, finished with `finish` (or stopped when None),
    both messages moved to `at`; the conversation's local id and the reply's global id."""
    conversation, question = await start_chat(client, agent, **start)
    answer = await begin(client, conversation, question)
    if finish is None:
        assert (await run(client, STOP, id=answer))["__typename"] == "MessagePayload"
    else:
        result = await run(client, FINISH, id=answer, **finish)
        assert result["__typename"] == "MessagePayload", result
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Message)
            .where(Message.conversation_id == local(conversation))
            .values(created_at=at)
        )
    return local(conversation), answer


def usage(model: str, provider: str, prompt: int, completion: int, cost: float) -> dict[str, Any]:
    return {"status": "COMPLETE", "model": model, "provider": provider, "prompt": prompt,
            "completion": completion, "cost": cost}  # fmt: skip


async def make(scratch: Scratch, services: Services) -> Chats:
    """Replies of two models of two providers, by two agents, on two days: completed ones,
    a failed one (still an AI call) and a stopped one naming no provider (no call)."""
    client = scratch.client
    chats = Chats(
        agents=[await scratch.create_agent("alpha"), await scratch.create_agent("beta")],
        models=[scratch.name("model-a"), scratch.name("model-b")],
        providers=[scratch.name("provider-a"), scratch.name("provider-b")],
    )
    (a1, a2), (m1, m2), (p1, p2) = chats.agents, chats.models, chats.providers
    plan: list[tuple[str, datetime, dict[str, Any] | None]] = [
        (a1, DAY1 + timedelta(hours=10), usage(m1, p1, 10, 5, 0.25)),
        (a2, DAY1 + timedelta(hours=11), usage(m2, p2, 20, 10, 0.5)),
        (a1, DAY2 + timedelta(hours=9), usage(m1, p1, 1, 2, 0.125)),
        (a2, DAY2 + timedelta(hours=12), {**usage(m2, p2, 3, 4, 1.0), "status": "FAILED"}),
        (a1, DAY2 + timedelta(hours=13), None),
    ]
    for agent, at, finish in plan:
        conversation, answer = await reply(services, client, agent, at, finish)
        chats.conversations.append(conversation)
        chats.replies.append(answer)
    return chats


@pytest.fixture
async def chats(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: object
) -> AsyncIterator[tuple[Scratch, Chats]]:
    """`make`'s chats, removed with their agents when the test ends."""
    async with open_chats(services, app, client) as scratch:
        yield scratch, await make(scratch, services)


async def stored_replies(services: Services, conversations: list[uuid.UUID]) -> list[Any]:
    """The agent replies of `conversations` as stored, with their conversation's agent and
    user, deleted messages left out."""
    query = (
        select(Message, Conversation.agent_id, Conversation.user_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(conversations),
            Message.role == MessageRole.AGENT,
            Message.deleted_at.is_(None),
        )
    )
    async with services.postgres.session() as session:
        return list((await session.execute(query)).all())


def sums_by(
    rows: list[Any], key: Callable[[Any], Any], period: Callable[[datetime], datetime]
) -> dict[tuple[str, Any], list[float]]:
    """(period, key) -> [messages, calls, tokens, prompt, completion, cost], from stored rows:
    the independent count the figures are checked against."""
    found: dict[tuple[str, Any], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    for row in rows:
        message = row.Message
        sums = found[(period(message.created_at).isoformat(), key(row))]
        sums[0] += 1
        ended = message.status.value in {"complete", "stopped", "failed"}
        sums[1] += int(ended and message.provider is not None)
        sums[2] += message.total_tokens
        sums[3] += message.prompt_tokens
        sums[4] += message.completion_tokens
        sums[5] += float(message.cost)
    return dict(found)


def day_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
