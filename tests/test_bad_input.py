"""Bad input gets a clear GraphQL error naming the argument, never a 500 and never a leak.

Three kinds, each with its own stable shape:
- our own checks (page sizes, cursors, ids, ranges): `extensions.code` BAD_USER_INPUT and
  `extensions.argument` naming the argument, on the path of the field;
- GraphQL validation of literals in the document (unknown enum value, wrong type): the
  message says what is wrong, with the code GRAPHQL_VALIDATION_FAILED and no `path`;
- variables whose values do not fit their declared types: the message names the variable
  and the path inside it, with the code BAD_USER_INPUT and no `path`.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from resolvers.ids import to_global_id

LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "pymongo", "beanie", "Internal server")

AGENTS = """
query Agents(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: AgentFilter, $orderBy: AgentOrder
) {
  agents(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) { totalCount edges { node { id } } }
}
"""

EXECUTIONS = """
query Executions(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: ExecutionFilter, $orderBy: ExecutionOrder
) {
  executions(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) { totalCount edges { node { id } } }
}
"""

WORKFLOWS = """
query Workflows(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: WorkflowFilter, $orderBy: WorkflowOrder
) {
  workflows(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) { totalCount edges { node { id } } }
}
"""

NESTED_EXECUTIONS = """
query Nested($nested: Int!) {
  agents(first: 2) { edges { node { executions(first: $nested) { totalCount } } } }
}
"""

AGENT = "query Agent($id: ID!) { agent(id: $id) { id } }"
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
FLOWCHART = "query Flowchart($agentId: ID!) { flowchart(agentId: $agentId) { id } }"

NIL = "00000000-0000-4000-8000-000000000000"


def cursor(value: Any, row_id: str = NIL) -> str:
    """A cursor in the server's format, holding a value of our choosing."""
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode().rstrip("=")


def global_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


OUR_CHECKS = [
    pytest.param(AGENTS, {"after": "garbage"}, "after", id="after-garbage"),
    pytest.param(AGENTS, {"last": 2, "before": "garbage"}, "before", id="before-garbage"),
    pytest.param(EXECUTIONS, {"after": "garbage"}, "after", id="executions-after-garbage"),
    pytest.param(WORKFLOWS, {"after": "garbage"}, "after", id="workflows-after-garbage"),
    pytest.param(AGENTS, {"after": cursor("not a date")}, "after", id="after-bad-date"),
    pytest.param(AGENTS, {"before": cursor("not a date")}, "before", id="before-bad-date"),
    pytest.param(AGENTS, {"after": cursor("x", "not-a-uuid")}, "after", id="after-bad-uuid"),
    pytest.param(
        AGENTS,
        {"after": cursor(["nested"]), "orderBy": {"field": "NAME"}},
        "after",
        id="after-name-not-text",
    ),
    pytest.param(
        EXECUTIONS,
        {"after": cursor("a lot"), "orderBy": {"field": "COST"}},
        "after",
        id="after-cost-not-number",
    ),
    pytest.param(
        EXECUTIONS,
        {"before": cursor(True), "orderBy": {"field": "TOKENS"}},
        "before",
        id="before-tokens-not-number",
    ),
    pytest.param(WORKFLOWS, {"after": cursor("not a date")}, "after", id="workflows-bad-date"),
    pytest.param(
        WORKFLOWS,
        {"last": 2, "before": cursor("not a date")},
        "before",
        id="workflows-before-bad-date",
    ),
    pytest.param(
        WORKFLOWS,
        {"after": cursor({"$gt": ""}), "orderBy": {"field": "NAME", "direction": "ASC"}},
        "after",
        id="workflows-name-cursor-operator",
    ),
    pytest.param(
        EXECUTIONS,
        {"after": cursor("1e999999"), "orderBy": {"field": "DURATION"}},
        "after",
        id="after-duration-beyond-numeric",
    ),
    pytest.param(
        EXECUTIONS,
        {"after": cursor("NaN"), "orderBy": {"field": "COST"}},
        "after",
        id="after-cost-nan",
    ),
    pytest.param(
        EXECUTIONS,
        {"after": cursor("0001-01-01T00:00:00+23:59")},
        "after",
        id="after-date-before-year-1-in-utc",
    ),
    pytest.param(
        AGENTS,
        {"after": cursor("a\u0000b"), "orderBy": {"field": "NAME"}},
        "after",
        id="after-name-with-nul",
    ),
    pytest.param(AGENTS, {"first": 101}, "first", id="first-101"),
    pytest.param(AGENTS, {"first": -1}, "first", id="first-negative"),
    pytest.param(AGENTS, {"last": 101}, "last", id="last-101"),
    pytest.param(AGENTS, {"last": -1}, "last", id="last-negative"),
    pytest.param(EXECUTIONS, {"first": 101}, "first", id="executions-first-101"),
    pytest.param(WORKFLOWS, {"first": 1000}, "first", id="workflows-first-1000"),
    pytest.param(AGENTS, {"first": 2, "last": 2}, "last", id="first-with-last"),
    pytest.param(
        AGENTS, {"after": cursor("x"), "before": cursor("x")}, "before", id="after-with-before"
    ),
    pytest.param(AGENTS, {"first": 2, "before": cursor("x")}, "before", id="first-with-before"),
    pytest.param(AGENTS, {"last": 2, "after": cursor("x")}, "after", id="last-with-after"),
    pytest.param(NESTED_EXECUTIONS, {"nested": 101}, "first", id="nested-first-101"),
    pytest.param(NESTED_EXECUTIONS, {"nested": -1}, "first", id="nested-first-negative"),
    pytest.param(AGENT, {"id": "garbage"}, "id", id="id-garbage"),
    pytest.param(AGENT, {"id": global_id("Agent:not-a-uuid")}, "id", id="id-bad-uuid"),
    pytest.param(AGENT, {"id": global_id(f"Execution:{NIL}")}, "id", id="id-other-type"),
    pytest.param(NODE, {"id": "%%%"}, "id", id="node-id-garbage"),
    pytest.param(NODE, {"id": "_w"}, "id", id="node-id-not-utf8"),  # decodes to b"\xff"
    pytest.param(FLOWCHART, {"agentId": "garbage"}, "agentId", id="flowchart-agent-id"),
    pytest.param(
        AGENTS, {"filter": {"ownerId": "garbage"}}, "filter.ownerId", id="filter-owner-garbage"
    ),
    pytest.param(
        AGENTS,
        {"filter": {"ownerId": to_global_id("Agent", uuid.UUID(NIL))}},
        "filter.ownerId",
        id="filter-owner-wrong-type",
    ),
    pytest.param(
        EXECUTIONS,
        {"filter": {"agentId": to_global_id("User", uuid.UUID(NIL))}},
        "filter.agentId",
        id="filter-agent-wrong-type",
    ),
    pytest.param(
        EXECUTIONS, {"filter": {"workflowId": "x"}}, "filter.workflowId", id="filter-workflow"
    ),
    pytest.param(
        WORKFLOWS, {"filter": {"createdBy": "x"}}, "filter.createdBy", id="filter-created-by"
    ),
    pytest.param(
        AGENTS,
        {"filter": {"created": {"from": "2025-06-02T00:00:00Z", "to": "2025-06-01T00:00:00Z"}}},
        "filter.created",
        id="created-inverted",
    ),
    pytest.param(
        AGENTS,
        {"filter": {"created": {"from": "2025-06-02T00:00:00", "to": "2025-06-01T23:00:00Z"}}},
        "filter.created",
        id="created-inverted-naive-from",
    ),
    pytest.param(
        EXECUTIONS,
        {"filter": {"started": {"from": "2025-06-02T00:00:00Z", "to": "2025-06-01T00:00:00Z"}}},
        "filter.started",
        id="started-inverted",
    ),
    pytest.param(
        EXECUTIONS,
        {"filter": {"started": {"from": "0001-01-01T00:00:00+23:59"}}},
        "filter.started",
        id="started-before-year-1-in-utc",
    ),
    pytest.param(
        AGENTS,
        {"filter": {"created": {"to": "9999-12-31T23:59:59-23:59"}}},
        "filter.created",
        id="created-after-year-9999-in-utc",
    ),
    pytest.param(
        AGENTS, {"filter": {"nameContains": "a\u0000b"}}, "filter.nameContains", id="nul-name"
    ),
    pytest.param(
        EXECUTIONS,
        {"filter": {"errorContains": "\u0000"}},
        "filter.errorContains",
        id="nul-error-text",
    ),
    pytest.param(AGENTS, {"filter": {"category": ["a\u0000"]}}, "filter.category", id="nul-value"),
    pytest.param(WORKFLOWS, {"filter": {"text": "\u0000"}}, "filter.text", id="nul-wf-text"),
    pytest.param(WORKFLOWS, {"filter": {"tagsAny": ["\u0000"]}}, "filter.tagsAny", id="nul-tag"),
    pytest.param(
        EXECUTIONS,
        {"filter": {"durationMs": {"min": 500, "max": 499}}},
        "filter.durationMs",
        id="duration-inverted",
    ),
    pytest.param(
        AGENTS, {"filter": {"nameContains": "x" * 201}}, "filter.nameContains", id="text-long"
    ),
    pytest.param(
        EXECUTIONS,
        {"filter": {"errorContains": "x" * 201}},
        "filter.errorContains",
        id="error-text-long",
    ),
    pytest.param(WORKFLOWS, {"filter": {"text": "x" * 201}}, "filter.text", id="wf-text-long"),
    pytest.param(
        AGENTS,
        {"filter": {"category": [f"c{n}" for n in range(101)]}},
        "filter.category",
        id="too-many-values",
    ),
    pytest.param(
        WORKFLOWS,
        {"filter": {"tagsAll": [f"t{n}" for n in range(101)]}},
        "filter.tagsAll",
        id="too-many-tags",
    ),
]


def assert_no_leak(response: httpx.Response) -> None:
    assert response.status_code < 500
    for leak in LEAKS:
        assert leak not in response.text


@pytest.mark.parametrize(("query", "variables", "argument"), OUR_CHECKS)
async def test_our_checks_name_the_argument_with_a_stable_code(
    client: httpx.AsyncClient, seeded: object, query: str, variables: Any, argument: str
) -> None:
    # when
    response = await client.post("/graphql", json={"query": query, "variables": variables})

    # then
    assert_no_leak(response)
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert errors
    for error in errors:
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
        assert error["message"].startswith(f"Invalid argument `{argument}`: ")
        assert error["path"]


VALIDATION = [
    pytest.param(
        "{ agents(filter: {status: [NOPE]}) { totalCount } }",
        ["NOPE", "AgentStatus"],
        id="unknown-enum-value",
    ),
    pytest.param(
        "{ executions(orderBy: {field: COLOR}) { totalCount } }",
        ["COLOR", "ExecutionOrderField"],
        id="unknown-order-field",
    ),
    pytest.param(
        "{ agents(filter: {nameContains: 5}) { totalCount } }",
        ["String", "5"],
        id="number-for-string",
    ),
    pytest.param(
        '{ agents(filter: {hasFlowchart: "yes"}) { totalCount } }',
        ["Boolean", "yes"],
        id="string-for-boolean",
    ),
    pytest.param('{ agents(first: "ten") { totalCount } }', ["Int", "ten"], id="string-for-int"),
    pytest.param(
        '{ agents(filter: {created: {from: "yesterday"}}) { totalCount } }',
        ["DateTime", "yesterday"],
        id="not-a-date",
    ),
    pytest.param(
        "{ executions(filter: {durationMs: {min: 1.5}}) { totalCount } }",
        ["Int", "1.5"],
        id="float-for-int",
    ),
    pytest.param(
        "{ workflows(filter: {bogus: 1}) { totalCount } }",
        ["bogus", "WorkflowFilter"],
        id="unknown-filter-field",
    ),
    pytest.param("{ agents(first: 1) { nope } }", ["nope", "Agent"], id="unknown-field"),
    pytest.param("{ agent { id } }", ["id", "required"], id="missing-argument"),
]


@pytest.mark.parametrize(("query", "words"), VALIDATION)
async def test_graphql_validation_errors_say_what_is_wrong(
    client: httpx.AsyncClient, seeded: object, query: str, words: list[str]
) -> None:
    # when
    response = await client.post("/graphql", json={"query": query})

    # then
    assert_no_leak(response)
    body = response.json()
    assert body.get("data") is None
    for error in body["errors"]:
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "path" not in error
    assert any(all(word in error["message"] for word in words) for error in body["errors"])


VARIABLES = [
    pytest.param(AGENTS, {"filter": {"status": ["NOPE"]}}, "$filter", "status", id="enum"),
    pytest.param(AGENTS, {"filter": {"nameContains": 5}}, "$filter", "nameContains", id="type"),
    pytest.param(
        AGENTS, {"filter": {"created": {"from": "yesterday"}}}, "$filter", "from", id="date"
    ),
    pytest.param(AGENTS, {"filter": {"bogus": True}}, "$filter", "bogus", id="unknown-field"),
    pytest.param(AGENTS, {"first": "ten"}, "$first", "Int", id="first"),
    pytest.param(AGENTS, {"first": 2**40}, "$first", "Int", id="first-beyond-int"),
    pytest.param(
        EXECUTIONS, {"orderBy": {"field": "COLOR"}}, "$orderBy", "field", id="order-field"
    ),
    pytest.param(
        EXECUTIONS,
        {"filter": {"durationMs": {"min": "short"}}},
        "$filter",
        "min",
        id="range-type",
    ),
    pytest.param(WORKFLOWS, {"filter": {"tagsAny": "one"}}, "$filter", None, id="list-coerced"),
    pytest.param(AGENT, {}, "$id", "to be provided", id="missing-variable"),
    pytest.param(AGENT, {"id": None}, "$id", "ID!", id="null-variable"),
]


@pytest.mark.parametrize(("query", "variables", "variable", "detail"), VARIABLES)
async def test_variables_that_do_not_fit_their_type_are_named(
    client: httpx.AsyncClient,
    seeded: object,
    query: str,
    variables: Any,
    variable: str,
    detail: str | None,
) -> None:
    # when
    response = await client.post("/graphql", json={"query": query, "variables": variables})

    # then
    assert_no_leak(response)
    body = response.json()
    if detail is None:
        # A single value where a list is expected is coerced into a list of one (spec).
        assert "errors" not in body
        return
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["message"].startswith(f"Variable '{variable}'")
    assert detail in error["message"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "path" not in error


async def test_a_bad_field_error_leaves_the_rest_of_the_response(
    client: httpx.AsyncClient, seeded: object
) -> None:
    # given
    query = 'query { node(id: "garbage") { id } agents(first: 1) { totalCount } }'

    # when
    response = await client.post("/graphql", json={"query": query})

    # then
    body = response.json()
    assert body["data"]["node"] is None
    assert body["data"]["agents"]["totalCount"] > 0
    [error] = body["errors"]
    assert error["path"] == ["node"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        pytest.param(b"not json", 400, id="not-json"),
        pytest.param(b"{}", 400, id="no-query"),
        pytest.param(b'{"query": 5}', 400, id="query-not-text"),
        pytest.param(b'{"query": "{ agents { totalCount } }", "variables": 5}', 400, id="vars"),
        # A syntax error is a GraphQL error in a 200 answer, located in the document.
        pytest.param(b'{"query": "{ agents { "}', 200, id="syntax"),
    ],
)
async def test_malformed_requests_are_refused_without_leaks(
    client: httpx.AsyncClient, seeded: object, payload: bytes, status: int
) -> None:
    # when
    response = await client.post(
        "/graphql", content=payload, headers={"content-type": "application/json"}
    )

    # then
    assert_no_leak(response)
    assert response.status_code == status
    if status == 200:
        [error] = response.json()["errors"]
        assert error["message"].startswith("Syntax Error")
        assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
        assert error["locations"]
