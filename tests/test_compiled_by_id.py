"""Values a compiled statement takes when it runs, not when it is built: the id of a root
field by id (`agent(id:)`, `node(id:)`, ...) and a root connection's cursor. Every id of a
type, every cursor of a page, shares one statement (built once, prepared once), where each
used to build, compile and prepare its own (issue 16: 6.5 ms of CPU per request for a new
id against 1.5 ms; 19.3 ms for a page after a new cursor against 2.2 ms). Answers equal to
the resolvers' (harness: tests/compiled.py)."""

from __future__ import annotations

import uuid
from typing import Any

from resolvers.cursors import encode_page
from schema.compiled.executor import built
from tests.compiled import Pair
from tests.graphql import gql_data

ADMIN = "admin@acme.example"
MEMBER = "user@acme.example"

BY_ID = """
query AgentById($id: ID!) {
  agent(id: $id) { id name status executions(first: 2) { totalCount edges { node { id } } } }
}
"""
# The same variable read again inside: the statement holds its value there.
READ_TWICE = """
query AgentAndItsRuns($id: ID!) {
  agent(id: $id) {
    id name
    executions(first: 3, filter: {agentId: $id}) { totalCount edges { node { id } } }
  }
}
"""
NODE = """
query NodeById($id: ID!) {
  node(id: $id) { __typename id ... on Agent { name } ... on Execution { status } }
}
"""


def _statements(text: str) -> list[Any]:
    """The statements kept for the operation `text` (their keys start with its plan's key,
    which starts with the text)."""
    return [key for key in built if isinstance(key, tuple) and key[0][0] == text]


async def _ids(pair: Pair, root: str, n: int = 3) -> list[str]:
    data = await gql_data(pair.plain, f"{{ {root}(first: {n}) {{ edges {{ node {{ id }} }} }} }}")
    return [edge["node"]["id"] for edge in data[root]["edges"]]


async def test_every_id_of_a_type_shares_one_statement(users: dict[str, Pair]) -> None:
    for email in (ADMIN, MEMBER):
        pair = users[email]
        agents = await _ids(pair, "agents")
        for agent_id in agents:
            answer = await pair.check(BY_ID, {"id": agent_id})
            assert answer.body["data"]["agent"]["id"] == agent_id

    # one per role (the plan is the role's), not one per id
    assert len(_statements(BY_ID)) == 2


async def test_an_id_read_again_inside_keeps_a_statement_per_id(
    users: dict[str, Pair],
) -> None:
    pair = users[ADMIN]
    agents = await _ids(pair, "agents")

    for agent_id in agents:
        answer = await pair.check(READ_TWICE, {"id": agent_id})
        assert answer.body["data"]["agent"]["id"] == agent_id

    assert len(_statements(READ_TWICE)) == len(agents)


async def test_node_by_id_keeps_one_statement_per_type(users: dict[str, Pair]) -> None:
    pair = users[ADMIN]
    ids = [*await _ids(pair, "agents", 2), *await _ids(pair, "executions", 2)]

    for node_id in ids:
        answer = await pair.check(NODE, {"id": node_id})
        assert answer.body["data"]["node"]["id"] == node_id

    assert len(_statements(NODE)) == 2


async def test_a_bad_id_is_reported_as_the_resolvers_report_it(users: dict[str, Pair]) -> None:
    pair = users[ADMIN]
    execution = (await _ids(pair, "executions", 1))[0]

    for bad in ("not-an-id", execution):  # not a global id; an id of another type
        answer = await pair.check(BY_ID, {"id": bad})
        assert answer.body["data"] is None or answer.body["data"]["agent"] is None
        assert answer.body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


PAGES = """
query AgentPages($n: Int, $after: String, $last: Int, $before: String) {
  agents(first: $n, after: $after, last: $last, before: $before,
         orderBy: {field: NAME, direction: ASC}) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name executions(first: 2) { totalCount } } }
  }
}
"""


async def test_pages_after_fresh_cursors_share_one_statement(users: dict[str, Pair]) -> None:
    pair = users[ADMIN]
    after, seen = None, []
    for _ in range(4):  # forwards
        answer = await pair.check(PAGES, {"n": 3, "after": after})
        page = answer.body["data"]["agents"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    before = after
    for _ in range(3):  # and backwards from there
        answer = await pair.check(PAGES, {"last": 2, "before": before})
        before = answer.body["data"]["agents"]["pageInfo"]["startCursor"]

    assert len(seen) == len(set(seen)) == 12
    # without a cursor, after one, before one: whatever the cursors' values
    assert len(_statements(PAGES)) == 3


async def test_a_bad_cursor_is_reported_after_good_ones_ran(users: dict[str, Pair]) -> None:
    pair = users[ADMIN]
    first = await pair.check(PAGES, {"n": 2})
    good = first.body["data"]["agents"]["pageInfo"]["endCursor"]
    await pair.check(PAGES, {"n": 2, "after": good})  # its statement is kept

    # not a cursor; a well-formed one whose value is a number where a name is expected
    for bad in ("not a cursor", encode_page(42, uuid.uuid4())):
        answer = await pair.check(PAGES, {"n": 2, "after": bad})
        assert answer.body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
