"""toolUsage: calls, failures, duration percentiles and cost per tool, server, user and
day, over the tool calls of the conversations the principal can see; one round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from flowgate.services import Services
from resolvers.ids import to_global_id
from tests.auth import VIEWER, client_as, user_by_email
from tests.conversations import TOOL, begin, run, start_chat
from tests.scratch import Scratch

USAGE = """
query($group: ToolUsageGroup!, $window: DateRangeInput) {
  toolUsage(groupBy: $group, window: $window) {
    key calls failures durationP50Ms durationP95Ms cost
  }
}
"""


async def _call(
    client: httpx.AsyncClient, reply: str, call: str, tool: str, status: str, ms: int
) -> None:
    result = await run(
        client,
        TOOL,
        id=reply,
        input={
            "callId": call,
            "toolName": tool,
            "server": "calc",
            "status": status,
            "durationMs": ms,
            "cost": 0.5,
        },
    )
    assert result["__typename"] == "ToolCallPayload", result


async def test_tool_usage_by_tool_server_user_and_day(
    chats: Scratch, client: httpx.AsyncClient, app: FastAPI, services: Services
) -> None:
    # given: four calls of a unique tool (10, 20, 30 ms and a failure at 40 ms)
    conversation, question = await start_chat(client, await chats.create_agent())
    reply = await begin(client, conversation, question)
    tool = chats.name("tool")
    for index, ms in enumerate((10, 20, 30)):
        await _call(client, reply, f"c{index}", tool, "SUCCEEDED", ms)
    await _call(client, reply, "c3", tool, "FAILED", 40)

    # when
    response = await client.post("/graphql", json={"query": USAGE, "variables": {"group": "TOOL"}})
    body = response.json()
    by_tool = {row["key"]: row for row in body["data"]["toolUsage"]}
    by_user = await run(client, USAGE, group="USER")
    by_day = await run(client, USAGE, group="DAY")
    by_server = await run(client, USAGE, group="SERVER")
    later = await run(client, USAGE, group="TOOL", window={"from": "2999-01-01T00:00:00Z"})

    # then
    assert by_tool[tool] == {
        "key": tool,
        "calls": 4,
        "failures": 1,
        "durationP50Ms": 25.0,
        "durationP95Ms": 38.5,
        "cost": 2.0,
    }
    assert body["extensions"]["roundTrips"] == {"sql": 1, "mongo": 0}
    admin = await user_by_email(services, "admin@acme.example")
    assert to_global_id("User", admin.id) in {row["key"] for row in by_user}
    assert datetime.now(UTC).date().isoformat() in {row["key"] for row in by_day}
    assert "calc" in {row["key"] for row in by_server}
    assert later == []

    # and: a member who cannot see the (private) conversation does not count its calls
    async with client_as(app, services, VIEWER) as viewer:
        seen = await viewer.post(USAGE, {"group": "TOOL"})
    assert tool not in {row["key"] for row in seen["data"]["toolUsage"]}


async def test_a_reversed_window_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": USAGE,
            "variables": {
                "group": "TOOL",
                "window": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            },
        },
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "window" in errors[0]["message"]
