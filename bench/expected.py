"""What the right answers contain, computed from the stores themselves (not from a target)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from pymongo import AsyncMongoClient

from bench.shapes import Fixture
from bench.stores import ADMIN_EMAIL, MEMBER_EMAIL, Stores
from resolvers.ids import to_global_id

AGENTS = "FROM agents WHERE organization_id = $1 AND deleted_at IS NULL"
# The first N live agents by name, and each one's executions, newest first, up to 10: those
# of no workflow or of one of $3 (NULL: every one).
PAGE = f"""
WITH page AS (SELECT id {AGENTS} ORDER BY name, id LIMIT $2)
SELECT page.id AS agent_id, e.id, e.workflow_id, e.total
FROM page LEFT JOIN LATERAL (
  SELECT id, workflow_id, count(*) OVER () AS total FROM executions
  WHERE organization_id = $1 AND agent_id = page.id
    AND ($3::uuid[] IS NULL OR workflow_id IS NULL OR workflow_id = ANY($3))
  ORDER BY started_at DESC, id DESC
) e ON true
"""  # noqa: S608 - constant SQL; values are bound parameters


async def fixture(stores: Stores) -> Fixture:
    connection = await asyncpg.connect(stores.database_url)
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        stores.mongodb_url, uuidRepresentation="standard"
    )
    try:
        organization_id = await connection.fetchval(
            "SELECT organization_id FROM users WHERE email = $1", ADMIN_EMAIL
        ) or await connection.fetchval("SELECT id FROM organizations ORDER BY name LIMIT 1")
        agent_id = await connection.fetchval(
            f"SELECT id {AGENTS} ORDER BY name, id", organization_id
        )
        # Whole days, so that `perDay` has exactly 30 entries.
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        until = today + timedelta(days=1)
        since = until - timedelta(days=30)
        result = Fixture(
            organization_id=str(organization_id),
            agent_uuid=str(agent_id),
            agent_global_id=to_global_id("Agent", agent_id),
            since=since.isoformat(),
            until=until.isoformat(),
        )
        total_agents = await connection.fetchval(f"SELECT count(*) {AGENTS}", organization_id)
        database = mongo[stores.mongodb_database]
        result.expected = await _pages(connection, database, organization_id, total_agents, None)
        member_id = await connection.fetchval(
            "SELECT id FROM users WHERE email = $1 AND organization_id = $2",
            MEMBER_EMAIL,
            organization_id,
        )
        if member_id is not None:
            readable = await _readable_by(database, organization_id, member_id)
            result.member_expected = await _pages(
                connection, database, organization_id, total_agents, readable
            )
            result.member_expected["Q0"] = {"typename": 1}
            result.member_expected["Q1"] = {"agents": 1}
        result.expected["Q0"] = {"typename": 1}
        result.expected["Q1"] = {"agents": 1}
        executions = await connection.fetchval(
            "SELECT count(*) FROM executions WHERE organization_id = $1"
            " AND started_at >= $2 AND started_at < $3",
            organization_id,
            since,
            until,
        )
        result.expected["Q6"] = {"totalExecutions": executions, "days": 30}
        return result
    finally:
        await connection.close()
        await mongo.close()


async def _pages(
    connection: asyncpg.Connection,
    database: Any,
    organization_id: uuid.UUID,
    total_agents: int,
    readable: list[uuid.UUID] | None,
) -> dict[str, dict[str, int]]:
    """The counts of the agent pages Q2-Q5, seeing the executions of no workflow or of one
    of `readable` (None: all)."""
    expected: dict[str, dict[str, int]] = {}
    for shape, first in (("Q2", 10), ("Q3", 100), ("Q4", 20), ("Q5", 10)):
        rows = await connection.fetch(PAGE, organization_id, first, readable)
        agents = {row["agent_id"] for row in rows}
        totals = {row["agent_id"]: row["total"] or 0 for row in rows}
        kept: list[asyncpg.Record] = []
        per_agent: dict[uuid.UUID, int] = {}
        for row in rows:
            if row["id"] is not None and per_agent.get(row["agent_id"], 0) < 10:
                per_agent[row["agent_id"]] = per_agent.get(row["agent_id"], 0) + 1
                kept.append(row)
        counts = {
            "agentsTotal": total_agents,
            "agents": len(agents),
            "executions": len(kept),
            "executionsTotal": sum(totals.values()),
        }
        if shape == "Q4":
            counts["steps"] = await _steps(database, organization_id, [r["id"] for r in kept])
        if shape == "Q5":
            counts["flowcharts"] = await database["flowcharts"].count_documents(
                {"organization_id": organization_id, "agent_id": {"$in": list(agents)}}
            )
            workflow_ids = {r["workflow_id"] for r in kept if r["workflow_id"] is not None}
            found = {
                d["_id"]
                async for d in database["workflows"].find(
                    {"organization_id": organization_id, "_id": {"$in": list(workflow_ids)}},
                    {"_id": 1},
                )
            }
            counts["workflows"] = sum(1 for r in kept if r["workflow_id"] in found)
        expected[shape] = counts
    return expected


async def _readable_by(
    database: Any, organization_id: uuid.UUID, user_id: uuid.UUID
) -> list[uuid.UUID]:
    """The workflows a member may read, as DESIGN.md states the rule (public, or naming
    them as owner, editor, viewer or creator): restated here, so that the gateway's own
    form of it is checked rather than trusted."""
    named = [
        {path: user_id}
        for path in (
            "permissions.owners",
            "permissions.editors",
            "permissions.viewers",
            "created_by",
        )
    ]
    query = {"organization_id": organization_id, "$or": [{"permissions.is_public": True}, *named]}
    return [d["_id"] async for d in database["workflows"].find(query, {"_id": 1})]


async def _steps(
    database: object, organization_id: uuid.UUID, execution_ids: list[uuid.UUID]
) -> int:
    pipeline = [
        {"$match": {"organization_id": organization_id, "execution_id": {"$in": execution_ids}}},
        {"$project": {"n": {"$size": "$steps"}}},
    ]
    total = 0
    async for document in await database["execution_traces"].aggregate(pipeline):  # type: ignore[index]
        total += document["n"]
    return total
