"""`usage` over chat replies (`sources: [CONVERSATIONS]`) and over both sources: sums equal
to what the store holds, visibility, deletions, the argument's bad input, round trips."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from flowgate.services import Services
from models.sql import Message
from resolvers.ids import to_global_id
from tests.auth import ADMIN, OTHER_ADMIN, USER, client_as, error_codes, user_by_email
from tests.chat_figures import (
    DAY1,
    WINDOW,
    Chats,
    chats,
    day_of,
    local,
    reply,
    stored_replies,
    sums_by,
    usage,
)
from tests.conversations import create_project, run
from tests.graphql import gql, gql_data
from tests.scratch import Scratch

__all__ = ["chats"]  # the fixture, shared with the other chat-figures module

USAGE = """
query Usage($since: DateTime, $until: DateTime, $bucket: UsageBucket! = DAY,
            $groupBy: UsageGroup! = PROVIDER, $sources: [UsageSource!]) {
  usage(since: $since, until: $until, bucket: $bucket, groupBy: $groupBy, sources: $sources) {
    period messages calls tokens promptTokens completionTokens cost
    provider model agent { id } user { id }
  }
}
"""
CHATS_ONLY = {**WINDOW, "sources": ["CONVERSATIONS"]}
DELETE = "mutation($id: ID!) { deleteConversation(id: $id) { __typename } }"


def _figures(points: list[dict[str, Any]], key: str) -> dict[tuple[str, Any], list[float]]:
    """(period, key) -> the sums, as `sums_by` gives them; an object key by its id."""
    return {
        (datetime.fromisoformat(p["period"]).isoformat(), (p[key] or {}).get("id")
         if key in {"agent", "user"} else p[key]): [
            p["messages"], p["calls"], p["tokens"], p["promptTokens"], p["completionTokens"],
            p["cost"],
        ]
        for p in points
    }  # fmt: skip


async def test_replies_per_provider_and_day_match_the_store(
    client: httpx.AsyncClient, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given: replies of two providers on two days (and a stopped one naming none)
    _, made = chats
    rows = await stored_replies(services, made.conversations)
    expected = sums_by(rows, lambda row: row.Message.provider, day_of)
    assert {key for _, key in expected} == {*made.providers, None}
    assert len({period for period, _ in expected}) == 2

    # when
    points = (await gql_data(client, USAGE, CHATS_ONLY))["usage"]
    both = (await gql_data(client, USAGE, WINDOW))["usage"]

    # then: each point is what the store holds (the failed reply is a call, the stopped one
    # is a message but no call), oldest first; no execution ran in 2021, so both sources
    # are the replies alone
    assert _figures(points, "provider") == expected
    assert [p["period"] for p in points] == sorted(p["period"] for p in points)
    assert both == points


async def test_models_agents_users_and_weeks(
    client: httpx.AsyncClient, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given
    _, made = chats
    rows = await stored_replies(services, made.conversations)
    monday = day_of(DAY1) - timedelta(days=DAY1.weekday())
    admin = await user_by_email(services, ADMIN)

    # when
    by_model = await gql_data(client, USAGE, {**CHATS_ONLY, "groupBy": "MODEL", "bucket": "WEEK"})
    by_agent = await gql_data(client, USAGE, {**CHATS_ONLY, "groupBy": "AGENT", "bucket": "HOUR"})
    by_user = await gql_data(client, USAGE, {**CHATS_ONLY, "groupBy": "USER"})

    # then: the reply's own model, folded into the week of Monday 2021-03-01
    assert _figures(by_model["usage"], "model") == sums_by(
        rows, lambda row: row.Message.model, lambda _: monday
    )
    hours = sums_by(
        rows,
        lambda row: to_global_id("Agent", row.agent_id),
        lambda moment: moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
    )
    assert _figures(by_agent["usage"], "agent") == hours
    assert {p["agent"]["id"] for p in by_agent["usage"]} == set(made.agents)
    users = {p["user"]["id"] for p in by_user["usage"]}
    assert users == {to_global_id("User", admin.id)}  # who chatted
    assert all(p["provider"] is None and p["model"] is None for p in by_user["usage"])


@pytest.mark.parametrize(("group", "key"), [("PROVIDER", "provider"), ("AGENT", "agent"),
                                            ("USER", "user")])  # fmt: skip
async def test_both_sources_add_up_to_each_alone(
    client: httpx.AsyncClient, seeded: object, group: str, key: str
) -> None:
    # given: the last week, where the seed has both AI steps and chat replies
    until = datetime.now(UTC)
    window = {"since": (until - timedelta(days=7)).isoformat(), "until": until.isoformat(),
              "groupBy": group}  # fmt: skip

    # when
    both = (await gql_data(client, USAGE, window))["usage"]
    parts = [
        (await gql_data(client, USAGE, {**window, "sources": [source]}))["usage"]
        for source in ("EXECUTIONS", "CONVERSATIONS")
    ]

    # then: a step and a reply of one key and day are one point, their sums added
    assert all(parts), "the seed has no steps or no replies in its last week"
    added: dict[tuple[str, Any], list[float]] = defaultdict(lambda: [0] * 6)
    for points in parts:
        for point, sums in _figures(points, key).items():
            added[point] = [a + b for a, b in zip(added[point], sums, strict=True)]
    got = _figures(both, key)
    assert got.keys() == added.keys()
    assert len(got) == len(both)  # no key twice in a period
    for point, sums in got.items():
        assert sums[:5] == added[point][:5], point
        assert sums[5] == pytest.approx(added[point][5], abs=1e-5), point


async def test_conversations_a_member_cannot_see_are_not_counted(
    app: FastAPI, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given: the admin's private chats, and one more held in a (shared) project
    scratch, made = chats
    project = await create_project(scratch.client, scratch.name("project"))
    model = scratch.name("shared-model")
    shared, _ = await reply(
        services, scratch.client, made.agents[0], DAY1 + timedelta(hours=20),
        usage(model, "shared", 7, 8, 0.75), project=project,
    )  # fmt: skip

    # when: a member (not an admin) asks
    async with client_as(app, services, USER) as member:
        body = await member.post(USAGE, {**CHATS_ONLY, "groupBy": "MODEL"})

    # then: only the shared chat counts
    assert "errors" not in body, body
    rows = await stored_replies(services, [shared])
    assert _figures(body["data"]["usage"], "model") == sums_by(
        rows, lambda row: row.Message.model, day_of
    )
    assert {p["model"] for p in body["data"]["usage"]} == {model}


async def test_another_organization_sees_none_of_it(
    app: FastAPI, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given: replies of the first organization in the window
    async with client_as(app, services, OTHER_ADMIN) as outsider:
        # when
        body = await outsider.post(USAGE, WINDOW)

    # then
    assert "errors" not in body, body
    assert body["data"]["usage"] == []


async def test_a_deleted_conversation_still_counts_a_deleted_message_does_not(
    client: httpx.AsyncClient, services: Services, chats: tuple[Scratch, Chats]
) -> None:
    # given: the figures, then one conversation deleted (restorable) and one reply deleted
    # (nothing in the API deletes a message yet: the row is marked as a deletion would)
    _, made = chats
    before = (await gql_data(client, USAGE, CHATS_ONLY))["usage"]
    deleted = await run(client, DELETE, id=to_global_id("Conversation", made.conversations[0]))
    assert deleted["__typename"] == "ConversationPayload", deleted
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Message)
            .where(Message.id == local(made.replies[1]))
            .values(deleted_at=datetime.now(UTC))
        )

    # when
    after = (await gql_data(client, USAGE, CHATS_ONLY))["usage"]

    # then: the deleted conversation's spend is still counted (it was incurred), the
    # deleted reply's is not
    rows = await stored_replies(services, made.conversations)
    assert local(made.replies[1]) not in {row.Message.id for row in rows}
    assert _figures(after, "provider") == sums_by(rows, lambda row: row.Message.provider, day_of)
    assert sum(p["messages"] for p in after) == sum(p["messages"] for p in before) - 1


async def test_an_empty_sources_list_is_refused_naming_it(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, USAGE, {**WINDOW, "sources": []})

    # then: refused, naming `sources`, nothing computed
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == "sources"
    assert body["data"] is None


@pytest.mark.parametrize("sources", [["CHATS"], [None], "CONVERSATIONS,EXECUTIONS"])
async def test_a_malformed_source_is_refused_naming_it(
    client: httpx.AsyncClient, sources: Any
) -> None:
    # when
    body = await gql(client, USAGE, {**WINDOW, "sources": sources})

    # then
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "$sources" in body["errors"][0]["message"]
    assert body.get("data") is None


async def test_round_trips_are_one_statement_and_do_not_grow_with_the_points(
    client: httpx.AsyncClient, chats: tuple[Scratch, Chats]
) -> None:
    async def trips(variables: dict[str, Any]) -> tuple[dict[str, int], int]:
        response = await client.post("/graphql", json={"query": USAGE, "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        return body["extensions"]["roundTrips"], len(body["data"]["usage"])

    # given: the principal is known (it is looked up once per process)
    await trips(CHATS_ONLY)
    hours = {**CHATS_ONLY, "bucket": "HOUR", "groupBy": "AGENT"}

    # when
    small, few = await trips({**hours, "until": (DAY1 + timedelta(hours=11)).isoformat()})
    large, many = await trips(hours)
    executions, _ = await trips({**WINDOW, "sources": ["EXECUTIONS"]})
    both, _ = await trips(WINDOW)

    # then: the chat side is one SQL statement (and the points' agents one batch), added to
    # the executions' side
    assert many > few
    assert small == large == {"sql": 2, "mongo": 0}
    assert both == {"sql": executions["sql"] + 1, "mongo": executions["mongo"]}


async def test_the_export_follows_the_sources(
    client: httpx.AsyncClient, chats: tuple[Scratch, Chats]
) -> None:
    # given
    params = {**WINDOW, "groupBy": "model", "sources": "conversations"}

    # when
    response = await client.get("/export/usage.csv", params=params)
    empty = await client.get("/export/usage.csv", params={**params, "sources": " , "})

    # then: the chat rows, their messages included; no source named is refused
    assert response.status_code == 200, response.text
    field = (await gql_data(client, USAGE, {**CHATS_ONLY, "groupBy": "MODEL"}))["usage"]
    lines = response.text.strip().splitlines()
    header = lines[0].split(",")
    table = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert [(r["model"], int(r["messages"]), int(r["calls"])) for r in table] == [
        (p["model"] or "", p["messages"], p["calls"]) for p in field
    ]
    assert empty.status_code == 400
    assert "sources" in empty.text
