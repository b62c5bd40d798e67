"""The prepared path (`schema.compiled.answer`): a query the full path answered fully compiled
is answered again without Strawberry's view and graphql-core's execution, and nothing the
full path guarantees is lost on the way: authentication, the limits with this request's
variables, persisted queries, roles, the request's log line and metrics, and the fallback to
the full path whenever it cannot answer alone. (Its answers equal the full path's for every
operation of the differential suites: `tests.compiled.Pair.check` asks each twice.)"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowgate.seed import SeedSummary
from flowgate.services import Services
from schema.compiled import answer
from schema.extensions.persisted import sha256
from tests.auth import VIEWER, api_key_for, bearer
from tests.compiled import prepared_answers
from tests.test_observe import _request_lines, log_lines  # noqa: F401 - a fixture
from tests.test_protection import variant_app

AGENTS = "query PreparedAgents($n: Int!) { agents(first: $n) { edges { node { id name } } } }"
COSTLY = """
query PreparedCostly($n: Int!, $m: Int!) {
  agents(first: $n) { edges { node { executions(first: $m) { edges { node {
    steps { nodeId status } } } } } } }
}
"""
NODE = "query PreparedNode($id: ID!) { node(id: $id) { id __typename } }"
TYPENAME = "query PreparedTypename { __typename }"


async def _post(client: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


async def _twice(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """Ask twice: the full path prepares, the prepared path answers; both say the same."""
    first = await _post(client, query, **variables)
    before = prepared_answers()
    second = await _post(client, query, **variables)
    assert prepared_answers() == before + 1, "the second asking took the full path"
    assert second.status_code == first.status_code == 200
    assert second.json()["data"] == first.json()["data"]
    body: dict[str, Any] = second.json()
    return body


async def test_the_second_asking_is_prepared(client: httpx.AsyncClient, seeded: object) -> None:
    body = await _twice(client, AGENTS, n=3)
    assert len(body["data"]["agents"]["edges"]) == 3
    assert set(body) == {"data", "extensions"}
    # The root's `__typename` alone is prepared too: the cheapest request there is.
    typename = await _twice(client, TYPENAME)
    assert typename["data"] == {"__typename": "Query"}


async def test_another_request_is_answered_anew(client: httpx.AsyncClient, seeded: object) -> None:
    await _twice(client, AGENTS, n=2)
    before = prepared_answers()
    answer = (await _post(client, AGENTS, n=5)).json()
    # the same text with other variables: prepared, with this request's page
    assert prepared_answers() == before + 1
    assert len(answer["data"]["agents"]["edges"]) == 5


async def test_variables_are_checked_every_time(client: httpx.AsyncClient, seeded: object) -> None:
    await _twice(client, AGENTS, n=1)
    before = prepared_answers()
    # a variable that does not fit its type, and one missing: the full path's errors
    wrong = (await _post(client, AGENTS, n="three")).json()
    missing = (await client.post("/graphql", json={"query": AGENTS})).json()
    # a page over the maximum: the resolver's error, as ever
    over = (await _post(client, AGENTS, n=10_000)).json()
    assert prepared_answers() == before
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$n" in wrong["errors"][0]["message"]
    assert missing["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert over["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert over["data"] is None


async def test_the_cost_limit_reads_this_requests_variables(
    client: httpx.AsyncClient, seeded: object
) -> None:
    await _twice(client, COSTLY, n=2, m=2)
    before = prepared_answers()
    # then the same text asks for pages that together cost more than the limit
    refused = (await _post(client, COSTLY, n=100, m=100)).json()
    assert prepared_answers() == before
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "data" not in refused or refused["data"] is None


async def test_no_credential_is_never_prepared(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, seeded: object
) -> None:
    await _twice(client, AGENTS, n=1)
    before = prepared_answers()
    refused = (await _post(anonymous, AGENTS, n=1)).json()
    assert prepared_answers() == before
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # and a credential that cannot be used is refused before anything runs
    forged = await anonymous.post(
        "/graphql",
        json={"query": AGENTS, "variables": {"n": 1}},
        headers={"Authorization": "Bearer fg_not_a_key"},
    )
    assert forged.status_code == 401


async def test_each_role_prepares_for_itself(
    app: FastAPI, client: httpx.AsyncClient, services: Services, seeded: SeedSummary
) -> None:
    query = "query PreparedByRole { agents(first: 1) { totalCount } }"
    await _twice(client, query)  # as the admin
    secret, _ = await api_key_for(services, VIEWER, "prepared-role")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://flowgate.test", headers=bearer(secret)
    ) as viewer:
        before = prepared_answers()
        await _post(viewer, query)
        # prepared for the admin's role, not the viewer's: the full path answers first
        assert prepared_answers() == before
        await _twice(viewer, query)


async def test_a_field_that_falls_back_sends_the_request_down_the_full_path(
    client: httpx.AsyncClient, seeded: object
) -> None:
    agents = (await _post(client, AGENTS, n=1)).json()["data"]["agents"]["edges"]
    agent_id = agents[0]["node"]["id"]
    await _twice(client, NODE, id=agent_id)
    workflows = (await _post(client, "{ workflows(first: 1) { edges { node { id } } } }")).json()
    workflow_id = workflows["data"]["workflows"]["edges"][0]["node"]["id"]
    before = prepared_answers()
    # `node(id)` of a workflow is not compiled: the prepared path gives up, the full path
    # answers it through the resolvers
    answer = (await _post(client, NODE, id=workflow_id)).json()
    assert prepared_answers() == before
    assert answer == {
        "data": {"node": {"id": workflow_id, "__typename": "Workflow"}},
        "extensions": answer["extensions"],
    }


async def test_persisted_queries_by_hash_are_prepared(
    client: httpx.AsyncClient, seeded: object
) -> None:
    query = "query PreparedPersisted { agents(first: 2) { edges { node { name } } } }"
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    registered = await client.post("/graphql", json={"query": query, "extensions": by_hash})
    before = prepared_answers()
    again = await client.post("/graphql", json={"extensions": by_hash})
    assert prepared_answers() == before + 1
    assert again.json()["data"] == registered.json()["data"]
    # a hash that is not the query's is refused by the full path, as ever
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256("{ __typename }")}}
    refused = await client.post("/graphql", json={"query": query, "extensions": wrong})
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


@pytest.mark.usefixtures("seeded")
async def test_a_prepared_request_is_logged_and_counted(
    client: httpx.AsyncClient,
    log_lines: io.StringIO,  # noqa: F811 - the fixture
) -> None:
    await _post(client, AGENTS, n=2)
    before = prepared_answers()
    answer = await _post(client, AGENTS, n=2)
    assert prepared_answers() == before + 1
    line = _request_lines(log_lines)[-1]
    body = answer.json()
    assert line["request_id"] == answer.headers["x-request-id"] == body["extensions"]["requestId"]
    assert line["operation"] == "PreparedAgents"
    assert line["operation_type"] == "query"
    assert line["status"] == 200
    assert line["round_trips"] == body["extensions"]["roundTrips"] == {"sql": 1, "mongo": 0}
    assert line["error_codes"] == []


async def test_a_bug_in_the_prepared_path_costs_only_its_time(
    client: httpx.AsyncClient, seeded: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _twice(client, AGENTS, n=2)

    def broken(*_: object) -> bool:
        raise RuntimeError("a bug in the prepared path")

    # Fault injection into our own code (no store is touched): the full path answers.
    monkeypatch.setattr(answer, "within_limits", broken)
    before = prepared_answers()
    response = await _post(client, AGENTS, n=2)
    assert prepared_answers() == before
    assert response.status_code == 200
    assert len(response.json()["data"]["agents"]["edges"]) == 2


async def test_an_allow_list_gateway_refuses_a_text_prepared_elsewhere(
    app: FastAPI, client: httpx.AsyncClient, seeded: object, tmp_path: Path
) -> None:
    """Prepared texts are known process-wide; what may run is still each gateway's own."""
    await _twice(client, AGENTS, n=1)  # prepared, for the admin's role, by the session's app
    allowed = "{ __typename }"
    allow_list = tmp_path / "operations.json"
    allow_list.write_text(json.dumps({sha256(allowed): allowed}))
    overrides = {"persisted_queries_only": True, "persisted_queries_file": allow_list}
    async with variant_app(app, **overrides) as (variant, secret):
        transport = httpx.ASGITransport(app=variant)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://flowgate.test", headers=bearer(secret)
        ) as admin:
            before = prepared_answers()
            refused = (await _post(admin, AGENTS, n=1)).json()
            assert prepared_answers() == before
            assert refused["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"


async def _next_backend(postgres: Any) -> tuple[int, bool]:
    """The server process and liveness of the connection the pool hands out next (LIFO: the
    one the last request gave back)."""
    from sqlalchemy.util import greenlet_spawn

    connection = await greenlet_spawn(postgres.engine.sync_engine.pool.connect)
    try:
        driver = connection.driver_connection
        return driver.get_server_pid(), not driver.is_closed()
    finally:
        await greenlet_spawn(connection.close)


async def test_a_connection_the_server_ended_is_not_given_back_to_the_pool(
    client: httpx.AsyncClient, app: FastAPI, services: Services, seeded: object
) -> None:
    # Compiled statements go to asyncpg directly (`Postgres.fetch_value`), not through
    # SQLAlchemy's connection, which would invalidate a connection that failed: so does it.
    first = await _twice(client, AGENTS, n=2)
    postgres = app.state.services.postgres
    pid, _ = await _next_backend(postgres)
    async with services.postgres.engine.connect() as other:  # another pool: not the app's
        await other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    # The compiled statement fails on the ended connection; the request is still answered
    # (by the resolvers, on a connection that works), and the dead one is dropped.
    again = (await _post(client, AGENTS, n=2)).json()
    assert again["data"] == first["data"]
    next_pid, alive = await _next_backend(postgres)
    assert alive and next_pid != pid
    before = prepared_answers()
    assert (await _post(client, AGENTS, n=2)).json()["data"] == first["data"]
    assert prepared_answers() == before + 1
