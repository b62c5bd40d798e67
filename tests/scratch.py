"""What the mutation tests create, and how it is removed again.

The session's stores hold the seeded demo data, read-only for tests. A mutation test gives
everything it creates a name starting with its own `prefix`; when the test ends, those
agents, their executions (cascade), flowcharts and audit entries are hard-deleted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from flowgate.services import Services
from models.documents import ExecutionEvent, ExecutionTrace, Flowchart
from models.sql import Agent, AuditLogEntry, Execution, Organization
from resolvers.ids import to_global_id

CREATE_AGENT = """
mutation CreateAgent($input: CreateAgentInput!) {
  createAgent(input: $input) {
    __typename
    ... on CreateAgentPayload { agent { id name } }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""

DELETE_AGENT = """
mutation DeleteAgent($id: ID!) {
  deleteAgent(id: $id) {
    __typename
    ... on DeleteAgentPayload { agent { id deletedAt } }
    ... on Error { code message }
  }
}
"""


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST an operation that must not fail as a whole; return its `data`."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


@dataclass
class Scratch:
    services: Services
    client: httpx.AsyncClient
    organization_id: uuid.UUID  # the first organization's, which `client` acts for
    other_organization_id: uuid.UUID
    prefix: str

    @classmethod
    @asynccontextmanager
    async def open(
        cls, services: Services, app: FastAPI, client: httpx.AsyncClient
    ) -> AsyncIterator[Scratch]:
        # `client` acts as the first organization's admin (tests/conftest.py).
        async with services.postgres.session() as session:
            mine, other = (
                await session.scalars(select(Organization.id).order_by(Organization.name))
            ).all()[:2]
        scratch = cls(
            services,
            client,
            mine,
            other,
            f"test-mutation-{uuid.uuid4().hex[:8]}-",
        )
        try:
            yield scratch
        finally:
            await scratch.remove_everything()

    def name(self, label: str = "agent") -> str:
        return f"{self.prefix}{label}"

    async def create_agent(self, label: str = "agent", **fields: Any) -> str:
        """A new agent through the API; its global id."""
        input_ = {"name": self.name(label), "category": "testing", **fields}
        result = (await gql(self.client, CREATE_AGENT, {"input": input_}))["createAgent"]
        assert result["__typename"] == "CreateAgentPayload", result
        agent_id: str = result["agent"]["id"]
        return agent_id

    async def create_deleted_agent(self, label: str = "deleted") -> str:
        agent_id = await self.create_agent(label)
        result = (await gql(self.client, DELETE_AGENT, {"id": agent_id}))["deleteAgent"]
        assert result["__typename"] == "DeleteAgentPayload", result
        return agent_id

    async def foreign_agent_id(self) -> str:
        """The global id of a live agent of the other organization (seeded, read only)."""
        async with self.services.postgres.session() as session:
            agent_id = await session.scalar(
                select(Agent.id)
                .where(
                    Agent.organization_id == self.other_organization_id,
                    Agent.deleted_at.is_(None),
                )
                .limit(1)
            )
        assert agent_id is not None
        return to_global_id("Agent", agent_id)

    async def counts(self) -> dict[str, int]:
        """Rows and documents of the organization that a mutation could add or change."""
        async with self.services.postgres.session() as session:
            agents = await session.scalar(
                select(func.count()).where(Agent.organization_id == self.organization_id)
            )
            live = await session.scalar(
                select(func.count()).where(
                    Agent.organization_id == self.organization_id, Agent.deleted_at.is_(None)
                )
            )
            audit = await session.scalar(
                select(func.count()).where(AuditLogEntry.organization_id == self.organization_id)
            )
        flowcharts = await Flowchart.find({"organization_id": self.organization_id}).count()
        return {
            "agents": agents or 0,
            "live_agents": live or 0,
            "audit": audit or 0,
            "flowcharts": flowcharts,
        }

    async def audit_entries(self, object_id: object) -> list[AuditLogEntry]:
        async with self.services.postgres.session() as session:
            query = (
                select(AuditLogEntry)
                .where(AuditLogEntry.object_id == str(object_id))
                .order_by(AuditLogEntry.id)
            )
            return list((await session.scalars(query)).all())

    async def remove_everything(self) -> None:
        async with self.services.postgres.session() as session, session.begin():
            agent_ids = list(
                (
                    await session.scalars(
                        select(Agent.id).where(Agent.name.startswith(self.prefix, autoescape=True))
                    )
                ).all()
            )
            flowcharts = await Flowchart.find({"agent_id": {"$in": agent_ids}}).to_list()
            execution_ids = list(
                (
                    await session.scalars(
                        select(Execution.id).where(Execution.agent_id.in_(agent_ids))
                    )
                ).all()
            )
            object_ids = (
                [str(i) for i in agent_ids]
                + [str(f.id) for f in flowcharts]
                + [str(i) for i in execution_ids]
            )
            await session.execute(
                delete(AuditLogEntry).where(AuditLogEntry.object_id.in_(object_ids))
            )
            await session.execute(delete(Agent).where(Agent.id.in_(agent_ids)))
        await Flowchart.find({"agent_id": {"$in": agent_ids}}).delete()
        await ExecutionTrace.find({"execution_id": {"$in": execution_ids}}).delete()
        await ExecutionEvent.find({"execution_id": {"$in": execution_ids}}).delete()
