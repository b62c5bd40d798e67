"""MongoDB fields in a compiled selection (flowcharts, steps, workflows): one query per
collection after the one statement, whatever the page's size, with answers equal to the
resolvers' (harness: tests/compiled.py), documents that the store holds wrongly and
workflows that are gone included."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import sqltypes

from models.documents import ExecutionTrace, Flowchart, FlowNode, Workflow
from models.sql import Execution
from models.sql.base import Base
from resolvers.compiled.documents import Projected, construct, projected_model
from resolvers.ids import from_global_id
from schema.compiled import executor
from schema.compiled.documents import DocumentField
from schema.compiled.plan import ConnectionPlan, EdgesPlan, RootPlan
from schema.compiled.sites import split
from tests.compiled import (
    Pair,
)
from tests.scratch import Scratch, gql

BOTH_STORES = """
query Both($n: Int!) {
  agents(first: $n, orderBy: {field: NAME, direction: ASC}) {
    edges { node {
      id name
      flowchart { id version nodes { id type label position { x y } } }
      executions(first: 10) {
        edges { node { id status steps { nodeId nodeType status startedAt cost }
                       workflow { id name status updatedAt } } }
      }
    } }
  }
}
"""
ONE_EXECUTION = """
query One($e: ID!) {
  execution(id: $e) {
    id
    steps { nodeId status startedAt }
    workflow { id name }
    agent { id flowchart { version } }
  }
}
"""
START = """
mutation($a: ID!) {
  startExecution(agentId: $a) { __typename ... on StartExecutionPayload { execution { id } } }
}
"""
ADMIN, MEMBER = "admin@acme.example", "user@acme.example"


@pytest.mark.parametrize("email", [ADMIN, MEMBER])
async def test_both_stores_cost_the_same_for_5_and_50_agents(
    users: dict[str, Pair], email: str
) -> None:
    pair = users[email]
    # when: equal to the resolvers' answers, in no more round trips (`Pair.check`)
    small = await pair.check(BOTH_STORES, {"n": 5})
    large = await pair.check(BOTH_STORES, {"n": 50})

    # then: the answers differ in size...
    assert len(large.body["data"]["agents"]["edges"]) == 50
    executions = [
        execution["node"]
        for agent in large.body["data"]["agents"]["edges"]
        for execution in agent["node"]["executions"]["edges"]
    ]
    assert any(execution["steps"] for execution in executions)
    assert any(execution["workflow"] for execution in executions)
    assert any(agent["node"]["flowchart"] for agent in large.body["data"]["agents"]["edges"])
    # ...but not in round trips: one statement; the readable workflows for a member, then
    # flowcharts, traces and workflows
    readable_ids = int(email == MEMBER)
    assert small.round_trips == large.round_trips == {"sql": 1, "mongo": readable_ids + 3}


async def _execution(scratch: Scratch) -> tuple[str, uuid.UUID]:
    return await _execution_of(scratch, await scratch.create_agent("documents"))


async def _execution_of(scratch: Scratch, agent: str) -> tuple[str, uuid.UUID]:
    started = (await gql(scratch.client, START, {"a": agent}))["startExecution"]
    assert started["__typename"] == "StartExecutionPayload", started
    execution: str = started["execution"]["id"]
    return execution, from_global_id(execution)[1]


async def test_a_step_stored_wrongly_is_reported_as_the_resolvers_report_it(
    users: dict[str, Pair], scratch: Scratch
) -> None:
    # given: an execution whose trace holds a step of no known status
    execution, row_id = await _execution(scratch)
    step = {"node_id": "n1", "node_type": "ai", "status": "exploded", "started_at": "never"}
    await ExecutionTrace.get_pymongo_collection().update_one(
        {"execution_id": row_id},
        {
            "$set": {"steps": [step]},
            "$setOnInsert": {"_id": uuid.uuid4(), "organization_id": scratch.organization_id},
        },
        upsert=True,
    )

    # when, then: the same data and errors on both paths
    answer = await users[ADMIN].check(ONE_EXECUTION, {"e": execution})
    assert answer.body["data"]["execution"] is None
    assert answer.body["errors"][0]["path"] == ["execution", "steps"]


async def test_an_execution_whose_workflow_is_gone_shows_none(
    users: dict[str, Pair], scratch: Scratch
) -> None:
    # given: an execution of a workflow that is no longer stored
    execution, row_id = await _execution(scratch)
    async with scratch.services.postgres.session() as session, session.begin():
        await session.execute(
            update(Execution).where(Execution.id == row_id).values(workflow_id=uuid.uuid4())
        )

    # when
    answer = await users[ADMIN].check(ONE_EXECUTION, {"e": execution})
    hidden = await users[MEMBER].check(ONE_EXECUTION, {"e": execution})

    # then: the admin sees the execution without a workflow, compiled (the workflow asked
    # for and not found); a member, whose readable workflows it is not of, does not see it
    assert answer.body["data"]["execution"]["id"] == execution
    assert answer.body["data"]["execution"]["workflow"] is None
    assert answer.body["data"]["execution"]["steps"] == []
    assert answer.round_trips == {"sql": 1, "mongo": 3}
    assert hidden.body["data"] == {"execution": None}


FORGED = """
query Forged($a: ID!) {
  agent(id: $a) {
    name description
    flowchart { nodes { id label } }
    executions(first: 5) { edges { node { input workflow { id name } } } }
  }
}
"""


async def test_stored_text_that_looks_like_a_place_for_a_document_stays_text(
    users: dict[str, Pair], scratch: Scratch
) -> None:
    # given: an agent, its flowchart and an execution holding, wherever a client can write
    # text, what a place for a MongoDB value looks like in the statement's answer
    # (`schema.compiled.sites`), naming another agent's flowchart and the workflow field
    other = from_global_id(await scratch.create_agent("other"))[1]
    forged = f'["\\u0000", 0, "{other}", "\\u0000"]'
    quoted = f'"\\u0000"], ["\\u0000", 1, null, "\\u0000"], "{forged}'
    agent = await scratch.create_agent("forged", description=quoted)
    _, row_id = await _execution_of(scratch, agent)
    workflow = await Workflow.find_one({"organization_id": scratch.organization_id})
    assert workflow is not None
    stored_input = {forged: forged, "text": [quoted, '\\"\\u0000']}
    async with scratch.services.postgres.session() as session, session.begin():
        await session.execute(
            update(Execution)
            .where(Execution.id == row_id)
            .values(input=stored_input, workflow_id=workflow.id)
        )
    agent_id = from_global_id(agent)[1]
    await Flowchart.get_pymongo_collection().delete_many({"agent_id": agent_id})
    nodes = [FlowNode(id="n1", type="ai", label=forged)]
    flowchart = Flowchart(organization_id=scratch.organization_id, agent_id=agent_id, nodes=nodes)
    await flowchart.insert()

    # when: equal to the resolvers' answer (`Pair.check`)...
    answer = await users[ADMIN].check(FORGED, {"a": agent})

    # then: ...compiled, every text as stored, the one real place of each field filled
    assert answer.round_trips["sql"] == 1
    found = answer.body["data"]["agent"]
    assert found["description"] == quoted
    assert found["flowchart"]["nodes"] == [{"id": "n1", "label": forged}]
    executions = found["executions"]["edges"]
    assert [edge["node"]["input"] for edge in executions] == [stored_input]
    assert executions[0]["node"]["workflow"]["name"] == workflow.name


def test_no_table_has_a_json_column_that_could_hold_a_place() -> None:
    # `json` keeps its text as written, so a stored `"\\u0000` could forge a place for a
    # MongoDB value (`schema.compiled.sites`); `jsonb` refuses it, text cannot hold NUL
    columns = [column for table in Base.metadata.tables.values() for column in table.columns]
    json_columns = [c for c in columns if isinstance(c.type, sqltypes.JSON)]

    assert json_columns  # the check sees the JSON columns there are...
    assert [str(c) for c in json_columns if not isinstance(c.type, JSONB)] == []  # ...all jsonb


def test_places_are_found_as_postgresql_and_orjson_write_them() -> None:
    # PostgreSQL writes ", " between an array's items; orjson (a statement run through the
    # engine) ","; a quoted place inside a string is not one
    postgresql = '{"a": ["\\u0000", 0, "k", 3, "\\u0000"], "b": "[\\"\\\\u0000\\", 1]"}'
    engine = '{"a":["\\u0000",1,null,"\\u0000"]}'

    assert split(postgresql) == ['{"a": ', '0, "k", 3', ', "b": "[\\"\\\\u0000\\", 1]"}']
    assert split(engine) == ['{"a":', "1,null", "}"]


FLOWCHART = """
query Flowchart($a: ID!) { agent(id: $a) { id flowchart { version nodes { id type label } } } }
"""


async def test_a_document_is_rendered_once_for_its_bytes_and_again_once_they_change(
    users: dict[str, Pair], scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an agent whose flowchart is in MongoDB, and a count of the documents a compiled
    # answer decodes (it decodes one to check and render it)
    agent = await scratch.create_agent("rendered")
    agent_id = from_global_id(agent)[1]
    flowchart = Flowchart(
        organization_id=scratch.organization_id,
        agent_id=agent_id,
        nodes=[FlowNode(id="n1", type="ai", label="before")],
    )
    await Flowchart.get_pymongo_collection().delete_many({"agent_id": agent_id})
    await flowchart.insert()
    decoded = Projected.decoded
    calls: list[object] = []

    def counted(self: Projected, stored: object) -> object:
        calls.append(stored)
        return decoded(self, stored)  # type: ignore[arg-type]

    monkeypatch.setattr(Projected, "decoded", counted)

    # when: asked for on both paths (twice compiled: once full, once prepared), then again
    first = await users[ADMIN].check(FLOWCHART, {"a": agent})
    rendered_first = len(calls)
    again = await users[ADMIN].check(FLOWCHART, {"a": agent})
    rendered_again = len(calls) - rendered_first
    # ...and once the stored document changed, its version as it was (as a script or a
    # restore could leave it)
    await Flowchart.get_pymongo_collection().update_one(
        {"_id": flowchart.id}, {"$set": {"nodes.0.label": "after"}}
    )
    changed = await users[ADMIN].check(FLOWCHART, {"a": agent})

    # then: the same answers as the resolvers' each time; the document rendered on its first
    # request only, and again for its new bytes (never the old rendering)
    assert first.body["data"] == again.body["data"]
    assert first.body["data"]["agent"]["flowchart"]["nodes"][0]["label"] == "before"
    assert rendered_first >= 1  # by each plan that asks for it (the full path's, the prepared)
    assert rendered_again == 0
    assert changed.body["data"]["agent"]["flowchart"]["version"] == 1
    assert changed.body["data"]["agent"]["flowchart"]["nodes"][0]["label"] == "after"
    assert len(calls) > rendered_first


NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Agent { name flowchart { version metadata { title } } }
    ... on Execution { status agent { name } }
    ... on Workflow { name }
  }
}
"""


async def test_node_of_an_agent_or_execution_is_compiled_and_of_a_workflow_falls_back(
    users: dict[str, Pair],
) -> None:
    pair = users[ADMIN]
    page = await pair.check(
        "{ executions(first: 20) { edges { node { id agent { id } workflow { id } } } } }"
    )
    nodes = [edge["node"] for edge in page.body["data"]["executions"]["edges"]]
    workflow = next(node["workflow"]["id"] for node in nodes if node["workflow"])

    # when
    agent = await pair.check(NODE, {"id": nodes[0]["agent"]["id"]})
    execution = await pair.check(NODE, {"id": nodes[0]["id"]})
    other = await pair.check(NODE, {"id": workflow})

    # then: the same answers; an agent's (flowchart and all) and an execution's compiled
    assert agent.body["data"]["node"]["__typename"] == "Agent"
    assert agent.round_trips == {"sql": 1, "mongo": 1}
    assert execution.body["data"]["node"]["__typename"] == "Execution"
    assert execution.round_trips == {"sql": 1, "mongo": 0}
    assert other.body["data"]["node"]["__typename"] == "Workflow"


def test_a_projected_document_is_filled_as_model_construct_fills_it() -> None:
    # given: a workflow validated from a projection of its id and name
    validated = projected_model(Workflow, frozenset({"_id", "name"})).model_validate(
        {"_id": uuid.uuid4(), "name": "Triage"}
    )
    required = {n: None for n, i in Workflow.model_fields.items() if i.is_required()}

    # when: filled by `construct` (defaults found once per class), twice
    first, second = construct(Workflow, validated), construct(Workflow, validated)
    # ... and by pydantic's own `model_construct` (which inspects each factory every time)
    expected = Workflow.model_construct(**{**required, **validated.__dict__})

    # then: the same fields, values (times aside: each call's own `utcnow`) and set fields
    times = {"created_at", "updated_at"}
    assert first.model_dump(exclude=times) == expected.model_dump(exclude=times)
    assert first.model_fields_set == expected.model_fields_set
    assert first.name == "Triage" and first.id == validated.__dict__["id"]
    # ... and each document its own mutable defaults, as from a factory called per document
    assert first.nodes == [] and first.nodes is not second.nodes


PROJECTED = """
query Projected {
  agents(first: 10, orderBy: {field: NAME, direction: ASC}) { edges { node {
    flowchart { version nodes { id label position { x } } connections { id source } }
    other: flowchart { nodes { type } }
  } } }
}
"""
WHOLE_NODES = (
    "query Whole { agents(first: 10) { edges { node { flowchart { nodes { agentId } } } } } }"
)


def _flowchart_projection(operation: str) -> frozenset[str]:
    """The projection planned for `Agent.flowchart` in the cached plan of `operation`."""
    for key, plan in executor.plans._entries.items():
        if key[1] == operation and isinstance(plan, RootPlan):
            assert isinstance(plan.target, ConnectionPlan)
            (edges,) = (part for _, part in plan.target.parts if isinstance(part, EdgesPlan))
            assert edges.node is not None
            for _, field in edges.node.fields:
                if isinstance(field, DocumentField):
                    return field.projection
    raise AssertionError(f"no plan of {operation}")


async def test_flowchart_nodes_are_projected_to_the_sub_fields_asked_for(
    users: dict[str, Pair],
) -> None:
    # when: nodes asked for field by field (under two aliases), and connections
    answer = await users[ADMIN].check(PROJECTED)

    # then: the resolvers' answer, from the nodes' fields asked for (and those a node cannot
    # be validated without), all of each connection (its id may be derived from the others)
    assert answer.round_trips == {"sql": 1, "mongo": 1}
    assert any(edge["node"]["flowchart"] for edge in answer.body["data"]["agents"]["edges"])
    assert _flowchart_projection("Projected") == {
        "version",
        "nodes.id",
        "nodes.type",
        "nodes.label",
        "nodes.position",
        "connections",
    }
