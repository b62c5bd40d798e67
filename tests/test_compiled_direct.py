"""Documents rendered straight from MongoDB's reply (`schema.compiled.direct`) and those
that are not (stored otherwise than validation would keep them, or holding what `from_model`
derives rather than copies): each answer equal to the resolvers' (harness: tests/compiled.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from models.documents import Flowchart
from resolvers.ids import from_global_id
from tests.compiled import (
    Pair,
)
from tests.scratch import Scratch

CHART = """
query Chart($a: ID!) {
  agent(id: $a) {
    id
    flowchart {
      id version
      nodes { id type label position { x y } data }
      connections { id source target condition }
      metadata { title layout }
    }
  }
}
"""
NODES = [
    {"id": "a", "type": "ai", "label": "Ask", "position": {"x": 1, "y": 2.5}, "data": {"k": 1}},
    {"id": "b", "type": "human"},  # label, position and data at their defaults
]


async def _agent_with_flowchart(scratch: Scratch, **stored: Any) -> str:
    agent = await scratch.create_agent("direct")
    await Flowchart.get_pymongo_collection().update_one(
        {"agent_id": from_global_id(agent)[1]},
        {
            "$set": {"version": 4, "nodes": NODES, **stored},
            "$setOnInsert": {"_id": uuid.uuid4(), "organization_id": scratch.organization_id},
        },
        upsert=True,
    )
    return agent


@pytest.mark.parametrize(
    "stored",
    [
        # canonical: rendered straight, ints where floats are stored and defaults included
        {"connections": [{"id": "e1", "source": "a", "target": "b"}]},
        # an edge stored without an id: `edge_ids` derives it, through `from_model`
        {"connections": [{"source": "a", "target": "b"}, {"source": "a", "target": "b"}]},
        # not canonical: a version stored as a string (validated to an int), no metadata
        {"version": "5", "connections": [], "metadata": {"title": "T"}},
    ],
)
async def test_a_flowchart_renders_as_the_resolvers_render_it(
    users: dict[str, Pair], scratch: Scratch, stored: dict[str, Any]
) -> None:
    agent = await _agent_with_flowchart(scratch, **stored)

    answer = await users["admin@acme.example"].check(CHART, {"a": agent})

    assert answer.body["data"]["agent"]["flowchart"]["nodes"][1]["label"] == ""
    assert answer.round_trips == {"sql": 1, "mongo": 1}


async def test_a_node_stored_wrongly_is_reported_as_the_resolvers_report_it(
    users: dict[str, Pair], scratch: Scratch
) -> None:
    agent = await _agent_with_flowchart(scratch, nodes=[{"id": "a", "type": "ai", "label": 7}])
    try:
        answer = await users["admin@acme.example"].check(CHART, {"a": agent})
    finally:  # valid again, for the scratch's clean-up (which loads it)
        await _agent_nodes(agent, NODES)

    assert answer.body["errors"][0]["path"][:2] == ["agent", "flowchart"]


async def _agent_nodes(agent: str, nodes: list[dict[str, Any]]) -> None:
    await Flowchart.get_pymongo_collection().update_one(
        {"agent_id": from_global_id(agent)[1]}, {"$set": {"nodes": nodes}}
    )
