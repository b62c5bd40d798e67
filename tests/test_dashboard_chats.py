"""`dashboardStats.chats`: the window's messages, replies, AI calls, tokens and cost, in all,
per model and provider, and per day; equal to what the store holds, scoped like `usage`,
one SQL statement; and `dashboardStatsChanged` recomputes them when a reply finishes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from flowgate.services import Services
from models.documents import Workflow
from models.sql import Message
from resolvers.ids import to_global_id
from tests.auth import ADMIN, OTHER_ADMIN, USER, api_key_for, client_as, user_by_email
from tests.chat_figures import (
    DAY1,
    DAY2,
    FINISH,
    WINDOW,
    Chats,
    chats,
    stored_replies,
    sums_by,
    usage,
)
from tests.conversations import begin, run, start_chat
from tests.graphql import gql_data
from tests.scratch import Scratch
from tests.ws import connect

__all__ = ["chats"]  # the fixture, shared with the other chat-figures module

CHATS = """
  chats {
    messages replies calls tokens promptTokens completionTokens cost
    byModel { model provider replies calls tokens cost }
    byDay { day messages replies calls tokens cost }
  }
"""
STATS = f"""
query($since: DateTime, $until: DateTime, $a: ID, $w: ID) {{
  dashboardStats(since: $since, until: $until, agentId: $a, workflowId: $w) {{
    totalExecutions {CHATS}
  }}
}}
"""


async def _messages(services: Services, chats: Chats) -> int:
    """Every message of the chats, questions included, as stored."""
    async with services.postgres.session() as session:
        count = await session.scalar(
            select(func.count()).where(
                Message.conversation_id.in_(chats.conversations), Message.deleted_at.is_(None)
            )
        )
    return int(count or 0)


async def test_the_chat_figures_match_the_store(
    client: httpx.AsyncClient, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given: replies of two models of two providers on two days
    _, made = chats
    rows = await stored_replies(services, made.conversations)
    one_period = sums_by(rows, lambda _: None, lambda _: DAY1)
    (messages, calls, tokens, prompt, completion, cost) = one_period[(DAY1.isoformat(), None)]
    by_model = sums_by(rows, lambda row: (row.Message.model, row.Message.provider), lambda _: DAY1)
    by_day = sums_by(
        rows, lambda _: None, lambda moment: moment.astimezone(UTC).replace(hour=0, minute=0)
    )

    # when
    figures = (await gql_data(client, STATS, WINDOW))["dashboardStats"]["chats"]

    # then: the totals (questions among the messages; the failed reply is a call, the stopped
    # one is not)
    assert figures | {"byModel": None, "byDay": None} == {
        "messages": await _messages(services, made),
        "replies": messages,
        "calls": calls,
        "tokens": tokens,
        "promptTokens": prompt,
        "completionTokens": completion,
        "cost": pytest.approx(cost),
        "byModel": None,
        "byDay": None,
    }
    assert figures["messages"] == 2 * figures["replies"]
    # per model and provider, most replies first (the stopped reply named neither)
    assert {
        (row["model"], row["provider"]): [row["replies"], row["calls"], row["tokens"], row["cost"]]
        for row in figures["byModel"]
    } == {key: [s[0], s[1], s[2], pytest.approx(s[5])] for (_, key), s in by_model.items()}
    assert [row["replies"] for row in figures["byModel"]] == sorted(
        (row["replies"] for row in figures["byModel"]), reverse=True
    )
    # per day: both days, oldest first
    assert [row["day"] for row in figures["byDay"]] == [DAY1.date().isoformat(),
                                                        DAY2.date().isoformat()]  # fmt: skip
    for row in figures["byDay"]:
        day = datetime.fromisoformat(row["day"]).replace(tzinfo=UTC).isoformat()
        replies, day_calls, day_tokens, _, _, day_cost = by_day[(day, None)]
        assert [row["replies"], row["calls"], row["tokens"]] == [replies, day_calls, day_tokens]
        assert row["messages"] == 2 * replies
        assert row["cost"] == pytest.approx(day_cost)


async def test_an_agent_a_workflow_and_an_empty_window(
    client: httpx.AsyncClient, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given
    _, made = chats
    admin = await user_by_email(services, ADMIN)
    workflow = await Workflow.find_one({"organization_id": admin.organization_id})
    assert workflow is not None
    rows = await stored_replies(services, made.conversations[::2])  # the first agent's
    later = {"since": "2021-06-01T00:00:00Z", "until": "2021-06-03T00:00:00Z"}

    # when
    of_agent = await gql_data(client, STATS, {**WINDOW, "a": made.agents[0]})
    of_workflow = await gql_data(
        client, STATS, {**WINDOW, "w": to_global_id("Workflow", workflow.id)}
    )
    empty = await gql_data(client, STATS, later)

    # then: the agent's replies only (it has the 1st, 3rd and 5th); a workflow holds no
    # chats; every day of a window is listed, even with nothing in it
    assert of_agent["dashboardStats"]["chats"]["replies"] == len(rows) == 3
    assert {row["model"] for row in of_agent["dashboardStats"]["chats"]["byModel"]} == {
        made.models[0],
        None,
    }
    for data in (of_workflow, empty):
        figures = data["dashboardStats"]["chats"]
        assert (figures["messages"], figures["cost"], figures["byModel"]) == (0, 0, [])
        assert [row["replies"] for row in figures["byDay"]] == [0, 0]


async def test_members_and_other_organizations_see_only_their_chats(
    app: FastAPI, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given: the admin's private chats in the window
    # when
    async with client_as(app, services, USER) as member:
        mine = await member.post(STATS, WINDOW)
    async with client_as(app, services, OTHER_ADMIN) as outsider:
        theirs = await outsider.post(STATS, WINDOW)

    # then: nothing of them
    for body in (mine, theirs):
        assert "errors" not in body, body
        assert body["data"]["dashboardStats"]["chats"]["messages"] == 0


async def test_chats_cost_one_more_sql_statement(
    client: httpx.AsyncClient, chats: tuple[Scratch, Chats]
) -> None:
    # given: the principal is already known (it is looked up once per process)
    query = "query($since: DateTime, $until: DateTime) { dashboardStats(since: $since, "
    without = query + "until: $until) { totalExecutions } }"
    with_chats = query + f"until: $until) {{ totalExecutions {CHATS} }} }}"
    await gql_data(client, without, WINDOW)

    # when
    plain = (await client.post("/graphql", json={"query": without, "variables": WINDOW})).json()
    both = (await client.post("/graphql", json={"query": with_chats, "variables": WINDOW})).json()

    # then: tests/test_dashboard_stats.py pins the 3 of the execution figures
    assert plain["extensions"]["roundTrips"] == {"sql": 3, "mongo": 0}
    assert both["extensions"]["roundTrips"] == {"sql": 4, "mongo": 0}


async def test_a_finished_reply_refreshes_the_live_figures(
    services: Services, chats: tuple[Scratch, Chats], live_server: str
) -> None:
    # given: a live dashboard of one agent's last hour (its other replies were moved to
    # 2021), and a reply being written
    scratch, made = chats
    agent = made.agents[1]
    conversation, question = await start_chat(scratch.client, agent)
    answer = await begin(scratch.client, conversation, question)
    secret, _ = await api_key_for(services, ADMIN, "live-chats")
    subscription = (
        "subscription($f: DashboardStatsFilter) { dashboardStatsChanged(window: 3600, "
        "filter: $f) { chats { replies calls cost } } }"
    )
    received: list[dict[str, Any]] = []
    async with connect(f"ws://{live_server}/graphql", {"Authorization": f"Bearer {secret}"}) as ws:
        operation = await ws.subscribe(subscription, {"f": {"agentId": agent}})
        async for payload in ws.results(operation, timeout=30):
            assert not payload.get("errors"), payload
            received.append(payload["data"]["dashboardStatsChanged"]["chats"])
            if len(received) == 1:
                # when: the engine finishes the reply
                await asyncio.sleep(0.3)  # registered (no acknowledgement in the protocol)
                finish = usage(made.models[1], made.providers[1], 2, 3, 0.5)
                result = await run(scratch.client, FINISH, id=answer, **finish)
                assert result["__typename"] == "MessagePayload", result
            elif received[-1]["calls"] == 1:
                break

    # then: first the reply still streaming (no call), then finished, with its cost
    assert received[0] == {"replies": 1, "calls": 0, "cost": 0}
    assert received[-1] == {"replies": 1, "calls": 1, "cost": 0.5}


@pytest.mark.parametrize(
    ("fields", "per_user"),
    [("totalExecutions", False), ("totalExecutions chats { cost }", True),
     ("... on DashboardStats { chats { replies } }", True)],
)  # fmt: skip
def test_live_figures_with_chats_are_shared_only_by_one_user(fields: str, per_user: bool) -> None:
    # given: a live dashboard asking for chats or not (the chats one may see are one's own)
    from graphql import parse

    from flowgate.sockets.grouping import _reaches_per_user_fields
    from schema import schema

    document = parse(f"subscription {{ dashboardStatsChanged {{ {fields} }} }}")

    # when / then: with chats, subscribers share a rendering only with themselves
    assert _reaches_per_user_fields(schema._schema, document) is per_user
