"""CSV export: the same rows, filters and permissions as the GraphQL fields, streamed, capped,
and refused with a reason before any row is sent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from flowgate.export import _cell
from flowgate.services import Services
from tests.auth import USER, client_as
from tests.graphql import all_edges, gql_data
from tests.test_protection import variant

FAILED = {"status": ["FAILED"]}
EXECUTIONS = """
query($first: Int, $after: String, $filter: ExecutionFilter) {
  executions(first: $first, after: $after, filter: $filter) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}
"""


def _table(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_executions_export_has_the_rows_of_the_same_filter(
    client: httpx.AsyncClient,
) -> None:
    # given: what the GraphQL field lists for the filter
    edges = await all_edges(client, EXECUTIONS, "executions", {"filter": FAILED})

    # when
    response = await client.get(
        "/export/executions.csv", params={"filter": orjson.dumps(FAILED).decode()}
    )

    # then: the same executions, each with its columns
    rows = _table(response)
    assert [row["id"] for row in rows] == [edge["node"]["id"] for edge in edges]
    assert {row["status"] for row in rows} == {"FAILED"}
    assert all(row["agent"] and row["started_at"] for row in rows)
    assert "attachment" in response.headers["content-disposition"]


async def test_aggregate_export_matches_the_field(client: httpx.AsyncClient) -> None:
    variables = {"groupBy": ["AGENT", "STATUS"], "first": 50}
    groups = (
        await gql_data(
            client,
            "query($groupBy: [GroupKey!]!, $first: Int) { executionAggregate(groupBy: $groupBy, "
            "first: $first) { key { agentId status } count totalTokens promptTokens "
            "completionTokens } }",
            variables,
        )
    )["executionAggregate"]
    response = await client.get(
        "/export/aggregate.csv", params={"groupBy": "agent,status", "first": "50"}
    )
    rows = _table(response)
    assert [(r["agent_id"], r["status"], int(r["count"])) for r in rows] == [
        (g["key"]["agentId"], g["key"]["status"], g["count"]) for g in groups
    ]
    tokens = ("total_tokens", "prompt_tokens", "completion_tokens")
    assert [tuple(int(r[c]) for c in tokens) for r in rows] == [
        (g["totalTokens"], g["promptTokens"], g["completionTokens"]) for g in groups
    ]
    assert any(int(r["prompt_tokens"]) for r in rows)
    assert all(row["agent"] for row in rows)


async def test_an_export_needs_a_credential(anonymous: httpx.AsyncClient) -> None:
    for path in ("/export/executions.csv", "/export/aggregate.csv?groupBy=day"):
        response = await anonymous.get(path)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("path", "params", "argument"),
    [
        ("/export/executions.csv", {"filter": "{not json"}, "filter"),
        ("/export/executions.csv", {"filter": '{"startedBy": "nonsense"}'}, "filter.startedBy"),
        ("/export/aggregate.csv", {"groupBy": "agent,day,status"}, "groupBy"),
        ("/export/aggregate.csv", {"groupBy": "day", "first": "many"}, "first"),
    ],
)
async def test_a_bad_export_is_refused_naming_the_parameter(
    client: httpx.AsyncClient, path: str, params: dict[str, str], argument: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert argument in error["message"]


async def test_figures_of_a_workflow_one_may_not_read_are_refused(
    app: FastAPI, services: Services, client: httpx.AsyncClient
) -> None:
    # given: a workflow the admin sees and the user may not read
    query = "{ workflows(first: 100) { edges { node { id } } } }"
    every = {e["node"]["id"] for e in (await gql_data(client, query))["workflows"]["edges"]}
    async with client_as(app, services, USER) as member:
        body = await member.post(query)
        readable = {e["node"]["id"] for e in body["data"]["workflows"]["edges"]}
        hidden = sorted(every - readable)
        assert hidden, "the seed has no workflow hidden from the user"

        # when
        response = await member.http.get(
            "/export/aggregate.csv",
            params={
                "groupBy": "status",
                "filter": orjson.dumps({"workflowId": hidden[0]}).decode(),
            },
        )

    # then
    assert response.status_code == 400
    assert "names no workflow you may read" in response.json()["errors"][0]["message"]


async def test_an_export_stops_at_the_row_cap(app: FastAPI, admin_key: str) -> None:
    # (a page of 7 rows, then the cap: the stream stops in the first page)
    async with variant(app, export_max_rows=7) as http:
        response = await http.get("/export/executions.csv")
    assert len(_table(response)) == 7
    assert response.headers["x-flowgate-row-cap"] == "7"


def test_cells_a_spreadsheet_would_run_are_kept_as_text() -> None:
    cases: list[tuple[Any, str]] = [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("@x", "'@x"),
        ("plain", "plain"),
        (None, ""),
        (3, "3"),
    ]
    for value, cell in cases:
        assert _cell(value) == cell


async def test_usage_export_matches_the_field(client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    window = {"since": (now - timedelta(days=90)).isoformat(), "until": now.isoformat()}
    points = (
        await gql_data(
            client,
            "query($since: DateTime, $until: DateTime) { usage(since: $since, until: $until, "
            "bucket: WEEK, groupBy: MODEL) { period model calls } }",
            window,
        )
    )["usage"]
    response = await client.get(
        "/export/usage.csv", params={**window, "bucket": "week", "groupBy": "model"}
    )
    rows = _table(response)
    assert points, "no usage in the seed's last 90 days"
    assert [(r["model"], int(r["calls"])) for r in rows] == [
        (p["model"] or "", p["calls"]) for p in points
    ]
    bad = await client.get("/export/usage.csv", params={"bucket": "fortnight"})
    assert bad.status_code == 400


async def test_the_graphiql_examples_link_to_working_exports(client: httpx.AsyncClient) -> None:
    # given: every export link the GraphiQL examples show an analyst
    from flowgate.graphiql import examples

    links = [
        line.strip("# ").split()[0]
        for example in examples()
        for line in example.query.splitlines()
        if line.lstrip("# ").startswith("/export/")
    ]
    assert {link.split("?")[0] for link in links} == {
        "/export/aggregate.csv",
        "/export/executions.csv",
        "/export/usage.csv",
    }

    # when / then: each answers a CSV table to the signed-in caller
    for link in links:
        assert _table(await client.get(link)), link
