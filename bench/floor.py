"""The floor: the data of Q0-Q4 fetched with raw asyncpg (and pymongo for Q4's steps) and
encoded with orjson, in a bare ASGI app under the same uvicorn Flowgate runs on. No GraphQL,
no ORM, no validation: what the database and the HTTP server cost on their own.

It reads the same request body the gateway does (`operationName`, `variables`) and answers
with the JSON shape Flowgate's answer has, so bench.check verifies it the same way. One pool
acquire per request, the pool's reset query turned off; two SQL round trips for Q2-Q4 (the
agents page with its total, then each agent's first executions by a window), one MongoDB
round trip more for Q4.

    uvicorn --factory bench.floor:create_app   (configured by BENCH_FLOOR_* variables)
"""

from __future__ import annotations

import base64
import os
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson
from pymongo import AsyncMongoClient

AGENT = """SELECT id, name, status::text, category, description, execution_count, created_at
FROM agents WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL"""
AGENTS = """SELECT id, name, status::text, count(*) OVER () AS total
FROM agents WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY name, id LIMIT $2"""
EXECUTIONS = """SELECT agent_id, id, status::text, started_at, duration_ms, cost::float8, total
FROM (SELECT *, row_number() OVER w AS rank, count(*) OVER (PARTITION BY agent_id) AS total
      FROM executions WHERE organization_id = $1 AND agent_id = ANY($2::uuid[])
      WINDOW w AS (PARTITION BY agent_id ORDER BY started_at DESC, id DESC)) ranked
WHERE rank <= 10 ORDER BY agent_id, rank"""

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _gid(kind: str, value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _uuid(global_id: str) -> uuid.UUID:
    padded = global_id + "=" * (-len(global_id) % 4)
    return uuid.UUID(base64.urlsafe_b64decode(padded).decode().partition(":")[2])


class Floor:
    def __init__(self) -> None:
        self.organization_id = uuid.UUID(os.environ["BENCH_FLOOR_ORGANIZATION"])
        self.pool: asyncpg.Pool | None = None
        self.mongo: AsyncMongoClient[dict[str, Any]] | None = None

    async def start(self) -> None:
        self.pool = await asyncpg.create_pool(
            os.environ["BENCH_FLOOR_DATABASE_URL"], min_size=2, max_size=10, reset=_no_reset
        )
        self.mongo = AsyncMongoClient(
            os.environ["BENCH_FLOOR_MONGODB_URL"], uuidRepresentation="standard"
        )

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.mongo is not None:
            await self.mongo.close()

    async def answer(self, shape: str, variables: dict[str, Any]) -> dict[str, Any]:
        if shape == "Q0":
            return {"__typename": "Query"}
        assert self.pool is not None
        async with self.pool.acquire() as connection:
            if shape == "Q1":
                row = await connection.fetchrow(AGENT, self.organization_id, _uuid(variables["id"]))
                return {"agent": None if row is None else _agent(row)}
            first = {"Q2": 10, "Q3": 100, "Q4": 20}[shape]
            agents = await connection.fetch(AGENTS, self.organization_id, first)
            executions = await connection.fetch(
                EXECUTIONS, self.organization_id, [a["id"] for a in agents]
            )
        steps = await self._steps([e["id"] for e in executions]) if shape == "Q4" else None
        by_agent: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        totals: dict[uuid.UUID, int] = {}
        for e in executions:
            node = {
                "id": _gid("Execution", e["id"]),
                "status": e["status"].upper(),
                "startedAt": e["started_at"],
                "durationMs": e["duration_ms"],
                "cost": e["cost"],
            }
            if steps is not None:
                node["steps"] = steps.get(e["id"], [])
            by_agent[e["agent_id"]].append({"node": node})
            totals[e["agent_id"]] = e["total"]
        edges = [
            {
                "node": {
                    "id": _gid("Agent", a["id"]),
                    "name": a["name"],
                    "status": a["status"].upper(),
                    "executions": {
                        "totalCount": totals.get(a["id"], 0),
                        "edges": by_agent[a["id"]],
                    },
                }
            }
            for a in agents
        ]
        return {"agents": {"totalCount": agents[0]["total"] if agents else 0, "edges": edges}}

    async def _steps(self, execution_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
        assert self.mongo is not None
        database = self.mongo[os.environ.get("BENCH_FLOOR_MONGODB_DATABASE", "flowgate")]
        cursor = database["execution_traces"].find(
            # The unique field first: SecantusDB plans by the filter's first field (on
            # organization_id it scans the tenant's every trace).
            {"execution_id": {"$in": execution_ids}, "organization_id": self.organization_id},
            {"execution_id": 1, "steps.node_id": 1, "steps.status": 1, "steps.duration_ms": 1},
            batch_size=len(execution_ids) + 1,
        )
        return {
            trace["execution_id"]: [
                {
                    "nodeId": step["node_id"],
                    "status": step["status"].upper(),
                    "durationMs": step.get("duration_ms"),
                }
                for step in trace.get("steps", [])
            ]
            async for trace in cursor
        }


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Nothing to reset: the floor leaves no session state behind (no round trip on release)."""


def _agent(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": _gid("Agent", row["id"]),
        "name": row["name"],
        "status": row["status"].upper(),
        "category": row["category"],
        "description": row["description"],
        "executionCount": row["execution_count"],
        "createdAt": row["created_at"],
    }


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    floor = Floor()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await floor.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await floor.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if scope["method"] == "POST":
            request = orjson.loads(body)
            data = await floor.answer(
                request.get("operationName") or "", request.get("variables") or {}
            )
            payload = orjson.dumps({"data": data})
        else:  # readiness probe
            payload = b'{"status":"ok"}'
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app
