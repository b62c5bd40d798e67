"""Fuzzing: schemathesis generates operations from the committed schema (every root query
and mutation, with arguments of every shape the types allow) and sends them to a running
gateway process, signed in as the admin of an organization of its own.

Whatever the input, no answer may be a 5xx, and no error may be an unexpected one: a masked
INTERNAL_SERVER_ERROR is a crash the fuzzer found, and an error without a code would be an
unmasked internal message. The gateway runs on databases of its own, so what the mutations
write never reaches the session's seeded data."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from flowgate.auth.credentials import new_api_key
from tests.processes import gateway_process
from tests.stores import TestStores, _asyncpg_dsn

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# Examples per root field: enough to reach every argument's edge cases, few enough for CI.
EXAMPLES = int(os.environ.get("FLOWGATE_FUZZ_EXAMPLES", "25"))

_json_leaf = st.one_of(
    st.none().map(lambda _: nodes.Null),
    st.booleans().map(nodes.Boolean),
    st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
    st.text(max_size=40).map(nodes.String),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes().map(lambda value: nodes.String(value.isoformat())),
        st.text(max_size=30).map(nodes.String),
    ),
)
schemathesis.graphql.scalar(
    "Date",
    st.one_of(
        st.dates().map(lambda value: nodes.String(value.isoformat())),
        st.text(max_size=12).map(nodes.String),
    ),
)
schemathesis.graphql.scalar("JSON", _json_leaf)

schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")


@pytest.fixture(scope="module")
async def target(
    test_stores: TestStores, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, str]]:
    """A `flowgate serve` process on fresh databases, and an admin key of its organization."""
    database_url = await test_stores.create_database("fuzz")
    env = {
        "FLOWGATE_DATABASE_URL": database_url,
        "FLOWGATE_MONGODB_URL": test_stores.mongodb_url,
        "FLOWGATE_MONGODB_DATABASE": f"flowgate_fuzz_{os.getpid()}",
        "FLOWGATE_REDIS_URL": "",
        "FLOWGATE_RATE_LIMIT_PER_PRINCIPAL": "0",
        "FLOWGATE_RATE_LIMIT_PER_ADDRESS": "0",
    }
    data_dir = tmp_path_factory.mktemp("fuzz")
    with gateway_process("serve", env, data_dir=data_dir) as (_, base_url):  # migrates first
        secret = await _admin_key(database_url)
        yield base_url, secret


async def _admin_key(database_url: str) -> str:
    key = new_api_key()
    organization, user = uuid.uuid4(), uuid.uuid4()
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "INSERT INTO organizations (id, name, slug) VALUES ($1, 'Fuzz', 'fuzz')", organization
        )
        await connection.execute(
            "INSERT INTO users (id, organization_id, email, name, role, password_hash, "
            "is_active) VALUES ($1, $2, 'admin@fuzz.example', 'Fuzz', 'admin', 'x', true)",
            user,
            organization,
        )
        await connection.execute(
            "INSERT INTO api_keys (id, organization_id, user_id, name, prefix, key_hash) "
            "VALUES ($1, $2, $3, 'fuzz', $4, $5)",
            uuid.uuid4(),
            organization,
            user,
            key.prefix,
            key.digest,
        )
    finally:
        await connection.close()
    return key.secret


def unexpected_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors that are not the client's mistake: a masked crash, or an error without a code
    (every expected error has one, GraphQL's own validation errors included)."""
    return [
        error
        for error in body.get("errors") or []
        if (error.get("extensions") or {}).get("code") in {None, "INTERNAL_SERVER_ERROR"}
    ]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same operations on every run: a failure is reproducible
)
def test_no_operation_crashes_the_gateway(case: Any, target: tuple[str, str]) -> None:
    base_url, secret = target
    response = case.call(
        base_url=f"{base_url}/graphql", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code < 500, (case.body, response.text)
    body = response.json()
    assert not unexpected_errors(body), (case.body, body)
