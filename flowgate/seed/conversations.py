"""Demo conversations: per organization two projects (agents attached), chats of its users
with its agents, some in a project (shared) and some private, agent replies with usage and
tool calls, one branch, and the event log each chat's subscription replays. Deterministic
for a seed number; written after the PostgreSQL rows it refers to."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowgate.services import Services
from models.enums import (
    ConversationEventType,
    ConversationStatus,
    MessageRole,
    MessageStatus,
    ProjectStatus,
    ToolCallStatus,
    UserRole,
)
from models.sql import (
    Agent,
    Conversation,
    ConversationEvent,
    Message,
    Organization,
    Project,
    ProjectAgent,
    ToolCall,
    User,
)
from models.sql.base import utcnow

CHATS_PER_ORGANIZATION = 6
QUESTIONS = [
    "Why does the nightly import fail on the first of the month?",
    "Summarise yesterday's support tickets by product.",
    "Write a migration that adds an index on orders.created_at.",
    "Which of our agents cost the most last week?",
    "Draft a reply to the customer asking about refunds.",
]
ANSWERS = [
    "The import reads the previous month's folder before it exists; run it after 02:00 UTC.",
    "Most tickets were about billing (41%), then login problems (22%) and exports (15%).",
    "Here is the migration: CREATE INDEX CONCURRENTLY ix_orders_created_at ON orders ...",
    "The research agent: $38.20 over 212 runs, mostly long model calls.",
    "Thank you for reaching out. Refunds are processed within five working days ...",
]
TOOLS = [("search_code", "github"), ("run_query", "postgres"), ("read_file", "filesystem")]


def _id(seed: int, *parts: object) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"flowgate-seed:{seed}:" + ":".join(map(str, parts)))


async def write_conversations(services: Services, seed: int) -> int:
    """Write the demo conversations; how many."""
    rng = random.Random(seed)
    anchor = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    written = 0
    async with services.postgres.session() as session, session.begin():
        organizations = (
            await session.scalars(select(Organization).order_by(Organization.name))
        ).all()
        for organization in organizations:
            written += await _organization(session, organization.id, seed, rng, anchor)
    return written


async def _organization(
    session: AsyncSession, org: uuid.UUID, seed: int, rng: random.Random, anchor: datetime
) -> int:
    users = list(
        (
            await session.scalars(
                select(User)
                .where(User.organization_id == org, User.role != UserRole.VIEWER)
                .order_by(User.email)
            )
        ).all()
    )
    agents = list(
        (
            await session.scalars(
                select(Agent)
                .where(Agent.organization_id == org, Agent.deleted_at.is_(None))
                .order_by(Agent.name)
            )
        ).all()
    )
    if not users or not agents:
        return 0
    projects = []
    for index, (name, language) in enumerate(
        (("Billing service", "python"), ("Web app", "typescript"))
    ):
        project = Project(
            id=_id(seed, org, "project", index),
            organization_id=org,
            owner_id=users[0].id,
            name=name,
            description=f"The {name.lower()} repository.",
            language=language,
            repository_url=f"https://git.example/{name.lower().replace(' ', '-')}",
            status=ProjectStatus.ACTIVE,
        )
        session.add(project)
        projects.append(project)
    await session.flush()
    for index, project in enumerate(projects):
        for agent in agents[index::2][:3]:
            session.add(ProjectAgent(project_id=project.id, agent_id=agent.id, organization_id=org))
    for index in range(CHATS_PER_ORGANIZATION):
        started = anchor - timedelta(days=rng.randint(0, 20), minutes=rng.randint(1, 600))
        await _chat(
            session,
            org,
            seed,
            rng,
            index,
            started,
            user=users[index % len(users)],
            agent=agents[index % len(agents)],
            project=projects[index % 2] if index % 3 else None,
        )
    return CHATS_PER_ORGANIZATION


async def _chat(
    session: AsyncSession,
    org: uuid.UUID,
    seed: int,
    rng: random.Random,
    index: int,
    started: datetime,
    *,
    user: User,
    agent: Agent,
    project: Project | None,
) -> None:
    topic = index % len(QUESTIONS)
    conversation = Conversation(
        id=_id(seed, org, "chat", index),
        organization_id=org,
        agent_id=agent.id,
        user_id=user.id,
        project_id=project.id if project else None,
        title=QUESTIONS[topic][:60],
        status=ConversationStatus.ARCHIVED if index == 5 else ConversationStatus.ACTIVE,
        created_at=started,
        updated_at=started,
    )
    session.add(conversation)
    await session.flush()
    turns = [(MessageRole.USER, QUESTIONS[topic]), (MessageRole.AGENT, ANSWERS[topic])]
    if index % 2:
        turns += [
            (MessageRole.USER, "Thanks. Can you go into more detail?"),
            (MessageRole.AGENT, "Certainly: " + ANSWERS[(topic + 1) % len(ANSWERS)]),
        ]
    at = started
    parent: uuid.UUID | None = None
    messages: list[Message] = []
    for turn, (role, content) in enumerate(turns):
        at += timedelta(seconds=rng.randint(5, 90))
        message = _message(seed, conversation, turn, role, content, parent, at, rng)
        session.add(message)
        await session.flush()
        _event(
            session,
            conversation,
            message,
            ConversationEventType.MESSAGE_CREATED,
            {
                "role": role.value,
                "status": "complete" if role is MessageRole.USER else "streaming",
                "content": content if role is MessageRole.USER else "",
                "parent_id": None,
            },
        )
        if role is MessageRole.AGENT:
            tool, server = TOOLS[(index + turn) % len(TOOLS)]
            failed = rng.random() < 0.2
            call = ToolCall(
                id=_id(seed, message.id, "tool"),
                organization_id=org,
                message_id=message.id,
                call_id=f"call-{turn}",
                tool_name=tool,
                server=server,
                arguments={"query": topic},
                result={"error": "timeout"} if failed else {"rows": rng.randint(1, 50)},
                status=ToolCallStatus.FAILED if failed else ToolCallStatus.SUCCEEDED,
                duration_ms=rng.randint(40, 4000),
                cost=Decimal("0.0004"),
                started_at=at,
                finished_at=at + timedelta(seconds=2),
            )
            session.add(call)
            _event(
                session,
                conversation,
                message,
                ConversationEventType.REPLY_CHUNK,
                {"chunk_seq": 1, "offset": 0, "text": content},
            )
            _event(
                session,
                conversation,
                message,
                ConversationEventType.REPLY_FINISHED,
                {
                    "status": "complete",
                    "content_length": len(content),
                    "last_chunk_seq": 1,
                    "total_tokens": message.total_tokens,
                },
            )
        messages.append(message)
        parent = message.id
    conversation.message_count = len(messages)
    conversation.last_message_at = conversation.updated_at = at
    if index == 1:  # one branch, forked after the first answer
        session.add(
            Conversation(
                id=_id(seed, org, "branch", index),
                organization_id=org,
                agent_id=agent.id,
                user_id=user.id,
                project_id=conversation.project_id,
                parent_id=conversation.id,
                forked_from_message_id=messages[1].id,
                title=f"{conversation.title} (branch)",
                created_at=at,
                updated_at=at,
            )
        )


def _message(
    seed: int,
    conversation: Conversation,
    turn: int,
    role: MessageRole,
    content: str,
    parent: uuid.UUID | None,
    at: datetime,
    rng: random.Random,
) -> Message:
    usage: dict[str, Any] = {}
    if role is MessageRole.AGENT:
        prompt, completion = rng.randint(200, 2000), rng.randint(50, 600)
        usage = {
            "model": "gpt-4o-mini",
            "provider": "openai",
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": Decimal(prompt + 4 * completion) / Decimal(1_000_000),
            "response_time_ms": rng.randint(800, 9000),
            "last_chunk_seq": 1,
        }
    return Message(
        id=_id(seed, conversation.id, "message", turn),
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        position=turn + 1,
        parent_id=parent,
        role=role,
        content=content,
        status=MessageStatus.COMPLETE,
        created_at=at,
        updated_at=at,
        finished_at=at,
        **usage,
    )


def _event(
    session: AsyncSession,
    conversation: Conversation,
    message: Message,
    type_: ConversationEventType,
    payload: dict[str, Any],
) -> None:
    conversation.last_event_seq += 1
    session.add(
        ConversationEvent(
            organization_id=conversation.organization_id,
            conversation_id=conversation.id,
            seq=conversation.last_event_seq,
            type=type_.value,
            message_id=message.id,
            payload=payload,
            created_at=message.created_at,
        )
    )
