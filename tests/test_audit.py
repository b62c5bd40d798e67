"""The audit log: what an entry records of a change, through HTTP against PostgreSQL, and the
summary rules of `resolvers.audit.changes`. (Each mutation's own entry is checked with the
mutation, in its domain's test module.)"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from models.sql import ApiKey
from resolvers.audit import SMALL_VALUE_BYTES, changes
from resolvers.ids import from_global_id
from tests.scratch import Scratch, gql

UPDATE_AGENT = """
mutation Update($id: ID!, $input: UpdateAgentInput!) {
  updateAgent(id: $id, input: $input) { __typename }
}
"""


class Colour(enum.Enum):
    RED = "red"


def test_changes_names_only_the_fields_that_differ() -> None:
    # when
    summary = changes({"name": "a", "category": "x"}, {"name": "b", "category": "x"})

    # then
    assert summary == {"changed": ["name"], "old": {"name": "a"}, "new": {"name": "b"}}


def test_a_new_field_has_a_new_value_and_no_old_one() -> None:
    # when
    summary = changes({}, {"name": "a"})

    # then
    assert summary == {"changed": ["name"], "old": {}, "new": {"name": "a"}}


def test_large_values_are_named_but_not_kept() -> None:
    # given: one value just small enough, one just too large (in JSON bytes, quotes included)
    small = "s" * (SMALL_VALUE_BYTES - 2)
    large = "l" * (SMALL_VALUE_BYTES - 1)

    # when
    summary = changes({"a": large, "b": None}, {"a": small, "b": large})

    # then
    assert summary == {"changed": ["a", "b"], "old": {"b": None}, "new": {"a": small}}


def test_values_are_stored_as_json() -> None:
    # given
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    some_id = uuid.UUID(int=7)

    # when
    summary = changes({}, {"at": when, "id": some_id, "colour": Colour.RED})

    # then
    assert summary["new"] == {
        "at": "2026-01-02T03:04:05+00:00",
        "id": str(some_id),
        "colour": "red",
    }


async def test_an_entry_names_the_action_the_object_the_actor_and_the_peer_address(
    scratch: Scratch,
) -> None:
    # given
    agent_id = await scratch.create_agent("audited")
    local = from_global_id(agent_id)[1]

    # when
    # (renamed within the scratch prefix, by which the agent is removed after the test)
    renamed = {"name": scratch.name("audited-renamed")}
    result = await gql(scratch.client, UPDATE_AGENT, {"id": agent_id, "input": renamed})

    # then
    assert result["updateAgent"]["__typename"] == "UpdateAgentPayload"
    create_entry, update_entry = await scratch.audit_entries(local)
    assert (create_entry.action, update_entry.action) == ("agent.create", "agent.update")
    assert update_entry.object_type == "Agent"
    assert update_entry.organization_id == scratch.organization_id
    # the client signs in with an API key (tests/conftest.py): the key's user acted
    async with scratch.services.postgres.session() as session:
        key_users = set(
            (
                await session.scalars(
                    select(ApiKey.user_id).where(ApiKey.organization_id == scratch.organization_id)
                )
            ).all()
        )
    assert update_entry.actor_type == "api_key"
    assert update_entry.actor_id in key_users
    # httpx's ASGI transport reports the peer 127.0.0.1
    assert update_entry.client_address is not None
    assert str(update_entry.client_address) == "127.0.0.1"
    assert update_entry.summary["changed"] == ["name"]


async def test_a_refused_change_leaves_no_entry(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("refused")
    local = from_global_id(agent_id)[1]

    # when: a change that fails validation
    result = await gql(scratch.client, UPDATE_AGENT, {"id": agent_id, "input": {"name": ""}})

    # then: only the creation was audited
    assert result["updateAgent"]["__typename"] == "ValidationError"
    assert [entry.action for entry in await scratch.audit_entries(local)] == ["agent.create"]
