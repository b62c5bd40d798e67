"""The attacks of the adversarial review (issue 13) that got through, each refused now: small
documents that expand exponentially, page sizes the cost estimate could not read, logins that
multiply password hashes, and requests the HTTP layer answered with a 500.

Websocket protocol abuse is in `tests/test_hardening_ws.py`."""

from __future__ import annotations

import asyncio
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import parse
from pydantic import SecretStr
from sqlalchemy import func, select

from flowgate.auth.passwords import PasswordVerifier, hash_password
from flowgate.auth.tokens import issue_access_token, read_access_token
from flowgate.services import Services
from flowgate.settings import (
    DEVELOPMENT_SECRET,
    DEVELOPMENT_SECRET_FILE,
    Settings,
    development_secret,
)
from models.sql.audit import AuditLogEntry
from schema import schema
from schema.extensions.cost import MAX_VARIABLES_KEY, cost_and_dependence, variables_key
from schema.extensions.shape import measure_document
from tests.auth import USER, bearer
from tests.scratch import Scratch, gql
from tests.test_agent_mutations import AGENT, CREATE_AGENT, UPDATE_AGENT, issues_of
from tests.test_identity import LOGIN
from tests.test_identity import login as identity_login
from tests.test_protection import (
    COSTLY_BY_VARIABLES,
    TOO_COSTLY,
    codes,
    post,
    variant,
    variant_app,
)


def fragment_bomb(fragments: int, leaf: str = "__typename") -> str:
    """`fragments` fragments, each spreading the previous one twice: 2^(n-1) selections."""
    definitions = [f"fragment F0 on Query {{ {leaf} }}"]
    definitions += [
        f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, fragments)
    ]
    return f"query {{ ...F{fragments - 1} }} " + " ".join(definitions)


# -- item 1: no validation step is exponential ------------------------------------------------


async def test_a_fragment_bomb_is_refused_as_too_large(client: httpx.AsyncClient) -> None:
    # given: 870 bytes that expand to 2,097,152 selections (this took 12 s to refuse, on the
    # event loop, and each extra fragment doubled it)
    query = fragment_bomb(22)
    assert len(query) < 900

    # when
    body = await post(client, query)

    # then
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert error["extensions"]["fields"] == 2**21
    assert "2097152 field selections" in error["message"]
    assert "the limit is 10000" in error["message"]


async def test_a_fragment_bomb_of_aliases_is_measured_without_expanding_it() -> None:
    # 300 doublings: a number no walk could reach, measured in one pass per fragment
    from graphql import parse

    shape = measure_document(parse(fragment_bomb(300, leaf="a: __typename")))
    assert shape.fields == shape.aliases == 10**12  # capped
    assert shape.depths == {"anonymous": 0}


async def test_fragments_reused_within_the_size_limit_run(client: httpx.AsyncClient) -> None:
    body = await post(client, fragment_bomb(10))  # 512 selections of one field
    assert body == {"data": {"__typename": "Query"}, "extensions": body["extensions"]}


async def test_the_expanded_size_limit_is_a_setting(app: FastAPI) -> None:
    async with variant(app, max_expanded_fields=512) as http:
        assert "errors" not in await post(http, fragment_bomb(10))
        assert codes(await post(http, fragment_bomb(11))) == ["QUERY_TOO_LARGE"]


async def test_aliases_in_a_fragment_count_at_every_spread(client: httpx.AsyncClient) -> None:
    # 8 aliases, spread twice: 16, one over the limit, as if written out
    aliases = " ".join(f"a{i}: __typename" for i in range(8))
    query = f"{{ ...A ...B }} fragment A on Query {{ {aliases} }} fragment B on Query {{ ...A }}"
    body = await post(client, query)
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert "16 aliases found. Allowed: 15" in body["errors"][0]["message"]


DEEP_FRAGMENT = """
{ agents(first: 1) { edges { node { ...Deep } } } }
fragment Deep on Agent { flowchart { agent { flowchart { agent { flowchart { agent {
    flowchart { %s } } } } } } } }
"""


async def test_depth_counts_through_fragments(client: httpx.AsyncClient, seeded: object) -> None:
    # 11 levels of selections, 8 of them in a fragment, as deep as written out
    body = await post(client, DEEP_FRAGMENT % "agent { id }")
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert "'anonymous' exceeds maximum operation depth of 10" in body["errors"][0]["message"]
    assert "errors" not in await post(client, DEEP_FRAGMENT % "id")


async def test_fragment_cycles_are_refused_by_validation(client: httpx.AsyncClient) -> None:
    query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    body = await post(client, query)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Cannot spread fragment 'A' within itself" in body["errors"][0]["message"]


# -- item 5: the cost is estimated from coerced values, and fails closed -----------------------


@pytest.mark.parametrize("size", [100, 100.0])
async def test_float_page_sizes_are_costed_as_the_ints_they_coerce_to(
    client: httpx.AsyncClient, size: Any
) -> None:
    # 100.0 is the Int 100 to graphql-core: it ran 52 agents x 2,153 executions uncosted
    body = await post(client, COSTLY_BY_VARIABLES, agents=size, executions=size)
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["errors"][0]["extensions"]["cost"] == 130301


async def test_a_page_size_that_does_not_coerce_counts_as_the_largest(
    client: httpx.AsyncClient,
) -> None:
    # The variables will be refused when the operation starts; the estimate does not wait
    # for that: an unreadable size is the largest page, not the default one.
    body = await post(client, COSTLY_BY_VARIABLES, agents="100", executions=1)
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["errors"][0]["extensions"]["cost"] > 50_000


async def test_small_float_page_sizes_run(client: httpx.AsyncClient, seeded: object) -> None:
    body = await post(client, COSTLY_BY_VARIABLES, agents=2.0, executions=1.0)
    assert "errors" not in body, body
    assert len(body["data"]["agents"]["edges"]) == 2


def test_a_page_query_without_variables_costs_the_same_whatever_it_is_sent() -> None:
    # given: literal page sizes, no declared variable; and the same with declared ones
    literal, declared = parse(TOO_COSTLY), parse(COSTLY_BY_VARIABLES)

    def cost(document: Any, variables: Any) -> tuple[int, bool]:
        return cost_and_dependence(
            schema._schema, document, operation_name=None, variables=variables, list_size=3
        )

    # when / then: the literal one is its own cost, even sent variables it does not declare
    # (or ones that are not an object), so it may be kept by its text
    own, dependent = cost(literal, None)
    assert not dependent
    assert cost(literal, {"agents": 1}) == cost(literal, [1]) == (own, False)
    # and the declared one depends on what it is sent
    assert cost(declared, {"agents": 100, "executions": 100}) == (own, True)
    assert cost(declared, {"agents": 1, "executions": 1}) < (own, True)


async def test_costs_kept_by_variables_are_each_variables_own(
    client: httpx.AsyncClient, seeded: object
) -> None:
    # given: a query whose cost its variables set, costed once over the limit and once under
    too_costly = await post(client, COSTLY_BY_VARIABLES, agents=100, executions=100)
    small = await post(client, COSTLY_BY_VARIABLES, agents=2, executions=1)

    # when: each is sent again (their costs now kept), the small one with its keys reordered
    again = await post(client, COSTLY_BY_VARIABLES, agents=100, executions=100)
    reordered = await post(client, COSTLY_BY_VARIABLES, executions=1, agents=2)

    # then: each is answered as the first time
    assert codes(too_costly) == codes(again) == ["QUERY_TOO_COSTLY"]
    assert again["errors"][0]["extensions"] == too_costly["errors"][0]["extensions"]
    assert "errors" not in small and "errors" not in reordered, (small, reordered)
    assert reordered["data"] == small["data"]


def test_only_short_json_variables_key_a_cost() -> None:
    assert variables_key({"b": 1, "a": [1.0, "x"]}) == variables_key({"a": [1.0, "x"], "b": 1})
    assert variables_key({"a": 1}) != variables_key({"a": 1.0}) != variables_key({"a": True})
    assert variables_key(None) == b"null"
    # not JSON as decoded from a body: not kept
    assert variables_key({"id": uuid.uuid4()}) is None
    assert variables_key({"since": datetime.now(UTC)}) is None
    assert variables_key({1: "a"}) is None
    assert variables_key([1]) is None
    assert variables_key({"a": float("nan")}) is None
    assert variables_key({"a": "x" * MAX_VARIABLES_KEY}) is None


# -- item 6: logins cannot multiply password hashes ---------------------------------------------

GUESS = "not the password"
TWO_LOGINS = """
mutation { a: login(email: "user@acme.example", password: "x") { __typename }
           ...B }
fragment B on Mutation { b: login(email: "user@acme.example", password: "x") { __typename } }
"""
LOGIN_AND_REFRESH = """
mutation { login(email: "user@acme.example", password: "x") { __typename }
           refreshToken(refreshToken: "x") { __typename } }
"""


@pytest.mark.parametrize("query", [TWO_LOGINS, LOGIN_AND_REFRESH])
async def test_one_login_or_refresh_per_operation(
    anonymous: httpx.AsyncClient, services: Services, query: str
) -> None:
    # given: the failed logins of a seeded user (each is audited) so far
    before = await _login_failures(services)

    # when
    body = await post(anonymous, query)

    # then: refused before anything ran
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_LOGINS", "count": 2}
    assert "At most one `login` or `refreshToken` per operation" in error["message"]
    assert await _login_failures(services) == before


async def test_login_attempts_per_address_are_limited(app: FastAPI, seeded: object) -> None:
    # given: three attempts allowed per address, each with another email
    # The window slides (60 s): wherever a fixed window's boundary falls, four attempts
    # within 20 s of each other are counted all the same (1 + 3 x (1 - 20/60) > 3 is false
    # only past 20 s).
    async with variant(app, login_attempts_per_address=3, redis_url=None) as http:
        answers = [
            await post(http, LOGIN, email=f"spray-{n}@x.example", password=GUESS) for n in range(4)
        ]
    assert [a["data"]["login"]["__typename"] for a in answers[:3]] == ["AuthenticationFailed"] * 3
    [error] = answers[3]["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "Too many login attempts from this address" in error["message"]


async def test_login_attempts_without_an_ip_address_share_one_limit(
    app: FastAPI, seeded: object
) -> None:
    # given: three attempts allowed per address, and a client whose peer is a name, not an
    # IP (the context's address is None); 60 s sliding, as above
    async with variant_app(app, login_attempts_per_address=3, redis_url=None) as (other, _):
        transport = httpx.ASGITransport(app=other, client=("testclient", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://flowgate.test") as http:
            # when: four attempts, each with another email
            answers = [
                await post(http, LOGIN, email=f"nameless-{n}@x.example", password=GUESS)
                for n in range(4)
            ]

    # then: counted under one key all the same, so the fourth is refused
    assert [a["data"]["login"]["__typename"] for a in answers[:3]] == ["AuthenticationFailed"] * 3
    [error] = answers[3]["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "Too many login attempts from this address" in error["message"]


async def test_password_checks_run_at_most_two_at_once(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    # when: eight logins at once
    answers = await asyncio.gather(
        *(post(anonymous, LOGIN, email=f"c{n}@x.example", password=GUESS) for n in range(8))
    )

    # then: each was checked, never more than two hashes at a time
    assert {a["data"]["login"]["__typename"] for a in answers} == {"AuthenticationFailed"}
    assert 1 <= app.state.guards.passwords.peak <= 2


async def test_the_password_verifier_answers_and_bounds(app: FastAPI) -> None:
    verifier = PasswordVerifier(max_concurrent=1)
    good = hash_password("secret")
    try:
        results = await asyncio.gather(
            verifier.verify(good, "secret"),
            verifier.verify(good, "wrong"),
            verifier.verify("not a hash", "secret"),
        )
    finally:
        verifier.close()
    assert results == [True, False, False]
    assert verifier.peak == 1


async def _login_failures(services: Services) -> int:
    async with services.postgres.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditLogEntry)
            .where(AuditLogEntry.action.like("auth.%"))
        )
    return int(count or 0)


# -- low: requests the HTTP layer answered with a 500 -------------------------------------------


@pytest.mark.parametrize(
    "body", ["null", "123", '"x"', "true", "[]", ' [{"query": "{ __typename }"}]']
)
async def test_a_json_body_that_is_not_an_object_is_a_coded_400(
    client: httpx.AsyncClient, body: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "must be a JSON object" in error["message"]


async def test_a_subscription_over_http_is_a_coded_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "subscription { executionUpdates { id } }"}
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "OPERATION_TYPE_NOT_ALLOWED"
    assert "Subscriptions run over a websocket" in error["message"]


async def test_a_body_that_is_not_json_keeps_its_own_coded_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content="{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error == {
        "message": "Unable to parse request body as JSON",
        "extensions": {"code": "BAD_REQUEST"},
    }


# -- low: bad input that was a 500 --------------------------------------------------------------

SEARCH = 'query($filter: SearchFilter) { search(query: "a", filter: $filter) { totalCount } }'


@pytest.mark.parametrize("name", ["tag", "status", "category"])
async def test_a_nul_byte_in_a_search_filter_is_bad_input(
    client: httpx.AsyncClient, name: str
) -> None:
    body = await post(client, SEARCH, filter={name: ["a\u0000b"]})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": f"filter.{name}"}
    assert "must not contain NUL characters" in error["message"]


@pytest.mark.parametrize(
    ("configuration", "expected"),
    [
        ({"provider": 12345}, {("configuration.provider", "INVALID")}),
        ({"provider": ["openai"]}, {("configuration.provider", "INVALID")}),
        ({"provider": "p" * 51}, {("configuration.provider", "TOO_LONG")}),
        ({"model": {"name": "x"}}, {("configuration.model", "INVALID")}),
        ({"max_tokens": 1.5}, {("configuration.max_tokens", "INVALID")}),
        ({"max_tokens": 0}, {("configuration.max_tokens", "OUT_OF_RANGE")}),
        ({"top_p": 2}, {("configuration.top_p", "OUT_OF_RANGE")}),
        ({"system_prompt": "s" * 10_001}, {("configuration.system_prompt", "TOO_LONG")}),
        (
            {"provider": 1, "temperature": "hot"},
            {("configuration.provider", "INVALID"), ("configuration.temperature", "INVALID")},
        ),
    ],
)
async def test_known_configuration_keys_are_checked_on_create_and_update(
    scratch: Scratch, configuration: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    # given
    before = await scratch.counts()
    input_ = {"name": scratch.name("config"), "category": "testing"}

    # when / then: refused on create, naming the key, and nothing written
    created = await gql(
        scratch.client, CREATE_AGENT, {"input": {**input_, "configuration": configuration}}
    )
    assert issues_of(created["createAgent"]) == expected
    assert await scratch.counts() == before

    # and on update of a good agent, which keeps its configuration
    good = {"provider": "openai", "model": "gpt-4o", "max_tokens": 1024, "top_p": 0.9}
    made = await gql(scratch.client, CREATE_AGENT, {"input": {**input_, "configuration": good}})
    agent = made["createAgent"]["agent"]
    updated = await gql(
        scratch.client, UPDATE_AGENT, {"id": agent["id"], "input": {"configuration": configuration}}
    )
    assert issues_of(updated["updateAgent"]) == expected
    again = await gql(scratch.client, AGENT, {"id": agent["id"]})
    assert again["agent"]["configuration"] == good


# -- low: /metrics -------------------------------------------------------------------------------


async def test_operation_names_of_anonymous_clients_are_not_labels(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    # given: a name no one has used
    invented = f"Invented{uuid.uuid4().hex}"
    login = f'login(email: "x@x.example", password: "{GUESS}") {{ __typename }}'
    query = f"mutation {invented} {{ {login} }}"

    # when: an anonymous client sends it, then a signed-in one
    await anonymous.post("/graphql", json={"query": query})
    text = (await client.get("/metrics")).text
    assert invented not in text
    assert 'operation="unauthenticated",type="mutation"' in text
    await client.post("/graphql", json={"query": f"query {invented} {{ __typename }}"})

    # then: only the signed-in client's name is a label
    assert f'operation="{invented}"' in (await client.get("/metrics")).text


async def test_metrics_can_require_a_token(app: FastAPI, seeded: object) -> None:
    token = "t" * 40
    async with variant(app, metrics_token=SecretStr(token)) as http:
        refused = await http.get("/metrics")  # with the admin's key, not the token
        assert refused.status_code == 401
        assert "Bearer <the metrics token>" in refused.text
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer " + "u" * 40})
        assert wrong.status_code == 401
        served = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert served.status_code == 200
        assert "flowgate_graphql_operations_total" in served.text


async def test_production_serves_metrics_only_with_a_token(app: FastAPI, seeded: object) -> None:
    secret = "s" * 40
    async with variant(app, environment="production", auth_secret=SecretStr(secret)) as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 403
        assert "FLOWGATE_METRICS_TOKEN" in refused.text
    token = "t" * 40
    overrides = {
        "environment": "production",
        "auth_secret": SecretStr(secret),
        "metrics_token": SecretStr(token),
    }
    async with variant(app, **overrides) as http:
        served = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert served.status_code == 200


# -- low: the development signing secret is no longer published ----------------------------------


def test_each_data_folder_has_its_own_random_development_secret(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "a", _env_file=None)  # type: ignore[call-arg]
    second = Settings(data_dir=tmp_path / "b", _env_file=None)  # type: ignore[call-arg]
    assert first.signing_secret != second.signing_secret
    assert DEVELOPMENT_SECRET not in (first.signing_secret, second.signing_secret)
    assert len(first.signing_secret) == 64
    # kept: the same folder signs with the same secret after a restart, readable by its owner
    stored = tmp_path / "a" / DEVELOPMENT_SECRET_FILE
    assert stored.read_text() == first.signing_secret
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    development_secret.cache_clear()
    again = Settings(data_dir=tmp_path / "a", _env_file=None)  # type: ignore[call-arg]
    assert again.signing_secret == first.signing_secret


async def test_a_token_signed_with_the_published_secret_is_refused(
    anonymous: httpx.AsyncClient, settings: Settings, seeded: object
) -> None:
    # given: a live login, and a ten-year token for it signed with the once-published secret
    tokens = await identity_login(anonymous)
    claims = read_access_token(tokens["accessToken"], settings.signing_secret)
    forged, _ = issue_access_token(claims, DEVELOPMENT_SECRET, 10 * 365 * 24 * 3600)

    # when
    response = await anonymous.post(
        "/graphql", json={"query": "{ me { email } }"}, headers=bearer(forged)
    )

    # then
    assert response.status_code == 401
    genuine = await anonymous.post(
        "/graphql", json={"query": "{ me { email } }"}, headers=bearer(tokens["accessToken"])
    )
    assert genuine.json()["data"]["me"]["email"] == USER
