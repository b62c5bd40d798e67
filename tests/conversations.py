"""Helpers of the conversation tests: operations as a frontend and an engine send them, and
the fixture that removes what a test created (its agents cascade to their conversations,
messages, tool calls, attachments and events; its projects are deleted by name)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from flowgate.services import Services
from models.sql import Project
from tests.scratch import Scratch, gql

START = """
mutation Start($agent: ID!, $message: String!, $project: ID, $title: String,
               $attachments: [AttachmentInput!]) {
  startConversation(agentId: $agent, message: $message, projectId: $project, title: $title,
                    attachments: $attachments) {
    __typename
    ... on StartConversationPayload { conversation { id title messageCount } firstMessage { id } }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""
POST = """
mutation Post($id: ID!, $content: String!, $parent: ID, $key: String) {
  postMessage(conversationId: $id, content: $content, parentMessageId: $parent,
              idempotencyKey: $key) {
    __typename
    ... on MessagePayload { chatMessage { id content status } }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""
BEGIN = """
mutation Begin($id: ID!, $to: ID!, $key: String) {
  beginReply(conversationId: $id, replyTo: $to, idempotencyKey: $key) {
    __typename
    ... on MessagePayload { chatMessage { id status } }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""
CHUNK = """
mutation Chunk($id: ID!, $seq: Int!, $text: String!) {
  appendReplyChunk(messageId: $id, seq: $seq, text: $text) {
    __typename
    ... on MessagePayload { chatMessage { content status } }
    ... on ChunkOutOfOrder { expectedSeq }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""
TOOL = """
mutation Tool($id: ID!, $input: ToolCallInput!) {
  recordToolCall(messageId: $id, input: $input) {
    __typename
    ... on ToolCallPayload { toolCall { id callId status durationMs result } }
    ... on Error { code message }
  }
}
"""
FINISH = """
mutation Finish($id: ID!) {
  finishReply(messageId: $id, usage: {promptTokens: 10, completionTokens: 5}, cost: 0.25,
              model: "gpt-test", provider: "openai") {
    __typename
    ... on MessagePayload { chatMessage { content status usage { total } cost model } }
    ... on Error { code message }
  }
}
"""
STOP = """
mutation Stop($id: ID!) {
  stopReply(messageId: $id) {
    __typename
    ... on MessagePayload { chatMessage { content status } }
    ... on Error { code message }
  }
}
"""
BRANCH = """
mutation Branch($id: ID!, $from: ID!) {
  branchConversation(conversationId: $id, fromMessageId: $from) {
    __typename
    ... on ConversationPayload { conversation { id title parent { id } forkedFrom { id } } }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""
CREATE_PROJECT = """
mutation Project($input: CreateProjectInput!) {
  createProject(input: $input) {
    __typename
    ... on ProjectPayload { project { id name } }
    ... on Error { code message }
  }
}
"""


async def run(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """The operation's one root field."""
    data = await gql(client, query, variables)
    (result,) = data.values()
    return result  # type: ignore[no-any-return]


async def start_chat(
    client: httpx.AsyncClient, agent: str, message: str = "Hello", **extra: Any
) -> tuple[str, str]:
    """A new conversation and its first message's id."""
    result = await run(client, START, agent=agent, message=message, **extra)
    assert result["__typename"] == "StartConversationPayload", result
    return result["conversation"]["id"], result["firstMessage"]["id"]


async def begin(client: httpx.AsyncClient, conversation: str, reply_to: str) -> str:
    result = await run(client, BEGIN, id=conversation, to=reply_to)
    assert result["__typename"] == "MessagePayload", result
    return str(result["chatMessage"]["id"])


async def chunk(client: httpx.AsyncClient, message: str, seq: int, text: str) -> dict[str, Any]:
    return await run(client, CHUNK, id=message, seq=seq, text=text)


async def create_project(client: httpx.AsyncClient, name: str) -> str:
    result = await run(client, CREATE_PROJECT, input={"name": name})
    assert result["__typename"] == "ProjectPayload", result
    return str(result["project"]["id"])


@asynccontextmanager
async def open_chats(
    services: Services, app: FastAPI, client: httpx.AsyncClient
) -> AsyncIterator[Scratch]:
    """A `Scratch` whose projects are removed too (the conversation modules' fixture)."""
    async with Scratch.open(services, app, client) as scratch:
        try:
            yield scratch
        finally:
            async with services.postgres.session() as session, session.begin():
                await session.execute(
                    delete(Project).where(Project.name.startswith(scratch.prefix, autoescape=True))
                )


@pytest.fixture
async def chats(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: object
) -> AsyncIterator[Scratch]:
    """A scratch organization for a conversation test, its projects removed too. Registered
    for every module by `tests/conftest.py` (`pytest_plugins`)."""
    async with open_chats(services, app, client) as scratch:
        yield scratch
