"""Cursors and ids have one codec (`resolvers.cursors`): the formats handed out so far keep
their bytes, and a cursor of one kind sent where another is expected is refused as bad input
naming the argument, never a 500 and never a page that continues after the wrong thing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from resolvers import cursors
from resolvers.errors import BadInputError
from tests.graphql import gql

ROW = uuid.UUID("6f1c2a4e-9b7d-4c3e-8a5f-0d2e4b6c8a10")
WHEN = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def _old(payload: bytes) -> str:
    """How every cursor was written before the codec: unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


# One cursor of each kind, as the server hands it out.
KINDS: dict[str, str] = {
    "id": cursors.encode_id("Agent", ROW),
    "page": cursors.encode_page(WHEN, ROW),
    "page-number": cursors.encode_page(42, ROW),
    "search": cursors.encode_search((3.5, f"Agent:{ROW}")),
    "event": cursors.encode_event(17),
    "audit": cursors.encode_audit(17),
}

# Each decoder with the argument it is told it reads.
DECODERS: dict[str, Callable[[str], object]] = {
    "id": lambda cursor: cursors.decode_id(cursor, argument="nodeArg"),
    "page": lambda cursor: cursors.decode_page(cursor, "nodeArg"),
    "search": lambda cursor: cursors.decode_search(cursor, "nodeArg"),
    "event": lambda cursor: cursors.decode_event(cursor, "nodeArg"),
    "audit": lambda cursor: cursors.decode_audit(cursor, "nodeArg"),
}


def test_the_formats_handed_out_keep_their_bytes() -> None:
    # given / when / then: each kind as it was written before the codec existed
    assert KINDS["id"] == _old(f"Agent:{ROW}".encode())
    assert KINDS["page"] == _old(json.dumps([WHEN.isoformat(), str(ROW)]).replace(" ", "").encode())
    assert KINDS["page-number"] == _old(f'[42,"{ROW}"]'.encode())
    assert KINDS["search"] == _old(f'[3.5,"Agent:{ROW}"]'.encode())
    assert KINDS["event"] == _old(b"seq:17")
    assert KINDS["audit"] == _old(b"audit:17")


def test_each_kind_decodes_what_it_encodes() -> None:
    assert cursors.decode_id(KINDS["id"]) == ("Agent", ROW)
    assert cursors.decode_page(KINDS["page"], "after") == (WHEN.isoformat(), ROW)
    assert cursors.decode_page(KINDS["page-number"], "after") == (42, ROW)
    assert cursors.decode_search(KINDS["search"]) == (3.5, f"Agent:{ROW}")
    assert cursors.decode_event(KINDS["event"]) == 17
    assert cursors.decode_audit(KINDS["audit"]) == 17


FOREIGN = [
    pytest.param(kind, decoder, id=f"{kind}-as-{decoder}")
    for kind in KINDS
    for decoder in DECODERS
    if kind.split("-")[0] != decoder
]


@pytest.mark.parametrize(("kind", "decoder"), FOREIGN)
def test_a_cursor_of_another_kind_is_refused_naming_the_argument(kind: str, decoder: str) -> None:
    # when
    with pytest.raises(BadInputError) as refused:
        DECODERS[decoder](KINDS[kind])

    # then
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "argument": "nodeArg"}
    problem = "is not a valid id" if decoder == "id" else cursors.MALFORMED
    assert refused.value.message.startswith("Invalid argument `nodeArg`: ")
    assert refused.value.message.endswith(problem)


@pytest.mark.parametrize(
    "payload",
    [
        [True, f"Agent:{ROW}"],
        ["3.5", f"Agent:{ROW}"],
        [None, f"Agent:{ROW}"],
        [1.0, f"Flowchart:{ROW}"],  # not a searchable type
        [1.0, str(ROW)],  # a page cursor's row id, not a document key
        [1.0, 5],
        [1.0, f"Agent:{ROW}", "extra"],
    ],
    ids=["bool", "text", "null", "other-type", "bare-uuid", "number-key", "three"],
)
def test_a_search_cursor_needs_a_number_and_a_document_key(payload: list[Any]) -> None:
    with pytest.raises(BadInputError):
        cursors.decode_search(_old(json.dumps(payload).encode()))


# Through /graphql, as a client that mixed up its cursors would.
AGENTS = "query Q($after: String) { agents(first: 2, after: $after) { totalCount } }"
SEARCH = 'query Q($after: String) { search(query: "agent", after: $after) { totalCount } }'
AUDIT = "query Q($after: String) { auditLog(first: 2, after: $after) { totalCount } }"
NODE = "query Q($after: ID!) { node(id: $after) { id } }"

OVER_HTTP = [
    pytest.param(AGENTS, KINDS["search"], "after", id="agents-after-a-search-cursor"),
    pytest.param(AGENTS, KINDS["event"], "after", id="agents-after-an-event-cursor"),
    pytest.param(AGENTS, KINDS["id"], "after", id="agents-after-an-id"),
    pytest.param(SEARCH, KINDS["page-number"], "after", id="search-after-a-page-cursor"),
    pytest.param(SEARCH, KINDS["audit"], "after", id="search-after-an-audit-cursor"),
    pytest.param(AUDIT, KINDS["event"], "after", id="audit-after-an-event-cursor"),
    pytest.param(AUDIT, KINDS["page"], "after", id="audit-after-a-page-cursor"),
    pytest.param(NODE, KINDS["page"], "id", id="node-of-a-page-cursor"),
    pytest.param(NODE, KINDS["search"], "id", id="node-of-a-search-cursor"),
]


@pytest.mark.parametrize(("query", "cursor", "argument"), OVER_HTTP)
async def test_a_foreign_cursor_is_bad_input_over_http(
    client: httpx.AsyncClient, query: str, cursor: str, argument: str
) -> None:
    # when
    body = await gql(client, query, {"after": cursor})

    # then: one typed error naming the argument, on the field's path
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert error["message"].startswith(f"Invalid argument `{argument}`: ")
    assert error["path"]


def test_no_other_module_writes_a_cursor_or_its_error() -> None:
    # given: the shipped packages
    root = Path(__file__).resolve().parent.parent
    home = root / "resolvers" / "cursors.py"

    # when: looking for base64 cursor code and the bad-cursor message outside the codec
    strays = [
        f"{path.relative_to(root)}: {needle}"
        for package in ("flowgate", "models", "resolvers", "schema")
        for path in sorted((root / package).rglob("*.py"))
        if path != home and "graphiql" not in path.parts
        for needle in ("urlsafe_b64", cursors.MALFORMED)
        if needle in path.read_text()
    ]

    # then
    assert strays == []
