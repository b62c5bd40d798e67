"""`saveFlowchart` through HTTP: versions under concurrency, the graph rules with every
violation reported at its path, and nothing written when anything is wrong."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from models.documents import Flowchart
from resolvers.ids import from_global_id, to_global_id
from resolvers.validation.graph import EdgeDraft, NodeDraft, check_graph
from resolvers.validation.issues import IssueCode, Issues
from tests.scratch import Scratch, gql

SAVE_FLOWCHART = """
mutation SaveFlowchart($agentId: ID!, $input: FlowchartInput!, $expectedVersion: Int) {
  saveFlowchart(agentId: $agentId, input: $input, expectedVersion: $expectedVersion) {
    __typename
    ... on SaveFlowchartPayload {
      flowchart {
        id version
        nodes { id type label position { x y } data agent { id name } }
        connections { source target condition }
        metadata { title description layout }
      }
    }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
    ... on NotFound { id }
    ... on VersionConflict { currentVersion }
  }
}
"""

FLOWCHART = """
query Flowchart($agentId: ID!) {
  flowchart(agentId: $agentId) {
    id version
    nodes { id type data agent { id } }
    connections { source target condition }
    metadata { title }
  }
}
"""


def graph(title: str = "triage", *, called_agent: str | None = None) -> dict[str, Any]:
    """A valid flowchart: start -> decide -> (reply | escalate)."""
    escalate: dict[str, Any] = {"id": "escalate", "type": "ACTION", "label": "Escalate"}
    if called_agent is not None:
        escalate["data"] = {"action": "call_agent", "agentId": called_agent}
    return {
        "nodes": [
            {"id": "start", "type": "AI", "label": "Read", "position": {"x": 0, "y": 0},
             "data": {"prompt": "Classify the ticket"}},
            {"id": "decide", "type": "DECISION", "label": "Urgent?"},
            {"id": "reply", "type": "AI", "label": "Reply"},
            escalate,
        ],
        "connections": [
            {"source": "start", "target": "decide"},
            {"source": "decide", "target": "reply", "condition": "not urgent"},
            {"source": "decide", "target": "escalate", "condition": "urgent"},
        ],
        "metadata": {"title": title, "description": "Ticket triage", "layout": "vertical"},
    }  # fmt: skip


async def save(
    scratch: Scratch, agent_id: str, input_: dict[str, Any], expected_version: int | None = None
) -> dict[str, Any]:
    variables = {"agentId": agent_id, "input": input_, "expectedVersion": expected_version}
    result: dict[str, Any] = (await gql(scratch.client, SAVE_FLOWCHART, variables))["saveFlowchart"]
    return result


def issues_of(result: dict[str, Any]) -> set[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return {(issue["path"], issue["code"]) for issue in result["issues"]}


async def stored(agent_id: str) -> Flowchart | None:
    return await Flowchart.find_one({"agent_id": from_global_id(agent_id)[1]})


async def test_first_save_creates_version_1_that_reads_back(scratch: Scratch) -> None:
    # given: an agent, and another one its flowchart calls
    agent_id = await scratch.create_agent("owner")
    helper_id = await scratch.create_agent("helper")

    # when
    result = await save(scratch, agent_id, graph(called_agent=helper_id))

    # then
    assert result["__typename"] == "SaveFlowchartPayload", result
    flowchart = result["flowchart"]
    assert flowchart["version"] == 1
    assert [node["id"] for node in flowchart["nodes"]] == ["start", "decide", "reply", "escalate"]
    assert flowchart["nodes"][3]["agent"] == {"id": helper_id, "name": scratch.name("helper")}
    assert flowchart["metadata"] == {
        "title": "triage", "description": "Ticket triage", "layout": "vertical"
    }  # fmt: skip
    # the agent reference is stored as the bare id that readers of node data expect
    document = await stored(agent_id)
    assert document is not None
    assert document.nodes[3].data["agentId"] == str(from_global_id(helper_id)[1])
    assert document.organization_id == scratch.organization_id
    # the read API shows the same flowchart
    read = (await gql(scratch.client, FLOWCHART, {"agentId": agent_id}))["flowchart"]
    assert read["id"] == flowchart["id"] == to_global_id("Flowchart", document.id)
    assert read["nodes"][3]["agent"] == {"id": helper_id}
    # and the save is audited once the document is written
    [entry] = await scratch.audit_entries(document.id)
    assert (entry.action, entry.object_type) == ("flowchart.save", "Flowchart")
    assert entry.summary == {
        "agentId": agent_id,
        "version": {"old": 0, "new": 1},
        "nodes": 4,
        "connections": 3,
        "changed": ["nodes", "connections", "metadata"],
    }


async def test_a_saved_flowchart_read_back_saves_again_unchanged(scratch: Scratch) -> None:
    # given: node data as the API returns it (a bare agent id in `data.agentId`)
    agent_id = await scratch.create_agent("roundtrip")
    helper_id = await scratch.create_agent("helper")
    first = (await save(scratch, agent_id, graph(called_agent=helper_id)))["flowchart"]
    input_ = {
        "nodes": [
            {key: node[key] for key in ("id", "type", "label", "position", "data")}
            for node in first["nodes"]
        ],
        "connections": first["connections"],
        "metadata": first["metadata"],
    }

    # when
    result = await save(scratch, agent_id, input_, expected_version=1)

    # then: a new version, with nothing else changed
    assert result["__typename"] == "SaveFlowchartPayload", result
    assert result["flowchart"]["version"] == 2
    assert result["flowchart"]["nodes"] == first["nodes"]
    entry = (await scratch.audit_entries(from_global_id(first["id"])[1]))[-1]
    assert entry.summary["version"] == {"old": 1, "new": 2}
    assert entry.summary["changed"] == []


async def test_saving_from_the_current_version_bumps_it_and_a_stale_one_conflicts(
    scratch: Scratch,
) -> None:
    # given: versions 1 and 2
    agent_id = await scratch.create_agent("versions")
    assert (await save(scratch, agent_id, graph("v1")))["flowchart"]["version"] == 1
    assert (await save(scratch, agent_id, graph("v2"), 1))["flowchart"]["version"] == 2
    before = await scratch.counts()

    # when: saved from version 1 again, and as if there were none
    stale = await save(scratch, agent_id, graph("stale"), 1)
    blind = await save(scratch, agent_id, graph("blind"), None)

    # then: both conflict and carry the current version; version 2 is untouched
    for result in (stale, blind):
        assert result["__typename"] == "VersionConflict", result
        assert (result["code"], result["currentVersion"]) == ("VERSION_CONFLICT", 2)
    document = await stored(agent_id)
    assert document is not None
    assert (document.version, document.metadata.title) == (2, "v2")
    assert await scratch.counts() == before


async def test_an_expected_version_when_there_is_no_flowchart_conflicts_with_0(
    scratch: Scratch,
) -> None:
    # given
    agent_id = await scratch.create_agent("empty")

    # when
    result = await save(scratch, agent_id, graph(), 3)

    # then
    assert result["__typename"] == "VersionConflict", result
    assert result["currentVersion"] == 0
    assert await stored(agent_id) is None


@pytest.mark.parametrize("expected_version", [None, 1], ids=["first save", "update"])
async def test_concurrent_saves_from_the_same_version_have_exactly_one_winner(
    scratch: Scratch, expected_version: int | None
) -> None:
    # given
    agent_id = await scratch.create_agent("raced")
    if expected_version:
        await save(scratch, agent_id, graph("base"))
    contenders = 6

    # when
    results = await asyncio.gather(
        *(save(scratch, agent_id, graph(f"c{n}"), expected_version) for n in range(contenders))
    )

    # then
    winners = [r for r in results if r["__typename"] == "SaveFlowchartPayload"]
    losers = [r for r in results if r["__typename"] == "VersionConflict"]
    assert len(winners) == 1, results
    assert len(losers) == contenders - 1, results
    new_version = (expected_version or 0) + 1
    assert winners[0]["flowchart"]["version"] == new_version
    assert {loser["currentVersion"] for loser in losers} == {new_version}
    document = await stored(agent_id)
    assert document is not None
    assert document.version == new_version
    assert document.metadata.title == winners[0]["flowchart"]["metadata"]["title"]
    assert len(await scratch.audit_entries(document.id)) == new_version


async def test_a_graph_with_many_violations_reports_each_at_its_path_and_writes_nothing(
    scratch: Scratch,
) -> None:
    # given: an agent with a flowchart, and nodes that call agents that are not callable
    agent_id = await scratch.create_agent("broken")
    await save(scratch, agent_id, graph("kept"))
    deleted_id = await scratch.create_deleted_agent()
    foreign_id = await scratch.foreign_agent_id()
    input_ = {
        "nodes": [
            {"id": "a", "type": "AI", "label": "x" * 201},
            {"id": "choose", "type": "DECISION"},
            {"id": "a", "type": "ACTION"},
            {"id": "bad-ref", "type": "ACTION", "data": {"agentId": "not-an-id"}},
            {"id": "foreign", "type": "ACTION", "data": {"agentId": foreign_id}},
            {"id": "gone", "type": "ACTION", "data": {"agentId": deleted_id}},
            {"id": "lonely", "type": "DECISION"},
            {"id": "shape", "type": "AI", "data": [1, 2]},
        ],
        "connections": [
            {"source": "choose", "target": "a", "condition": "yes"},
            {"source": "choose", "target": "bad-ref"},
            {"source": "a", "target": "nowhere"},
            {"source": "lonely", "target": "a", "condition": "always"},
        ],
        "metadata": {"title": "t" * 201},
    }
    before = await scratch.counts()

    # when
    result = await save(scratch, agent_id, input_, 1)

    # then: every violation, each at its own path
    assert issues_of(result) == {
        ("nodes[0].label", "TOO_LONG"),
        ("nodes[2].id", "DUPLICATE"),
        ("nodes[3].data.agentId", "INVALID_ID"),
        ("nodes[4].data.agentId", "NOT_FOUND"),
        ("nodes[5].data.agentId", "NOT_FOUND"),
        ("nodes[6]", "TOO_FEW_BRANCHES"),
        ("nodes[7].data", "INVALID"),
        ("connections[1].condition", "REQUIRED"),
        ("connections[2].target", "UNKNOWN_NODE"),
        ("metadata.title", "TOO_LONG"),
    }
    assert "10 problems" in result["message"]
    # and nothing was written anywhere
    assert await scratch.counts() == before
    document = await stored(agent_id)
    assert document is not None
    assert (document.version, document.metadata.title) == (1, "kept")


@pytest.mark.parametrize(
    ("make_input", "expected"),
    [
        (
            lambda: {"nodes": [{"id": f"n{i}", "type": "AI"} for i in range(501)]},
            {("nodes", "TOO_MANY")},
        ),
        (
            lambda: {
                "nodes": [{"id": "a", "type": "AI"}],
                "connections": [{"source": "a", "target": "a"}] * 2_001,
            },
            {("connections", "TOO_MANY")},
        ),
        (
            lambda: {"nodes": [{"id": "a", "type": "AI", "data": {"prompt": "p" * 270_000}}]},
            {("input", "TOO_LARGE")},
        ),
        (
            lambda: {"nodes": [{"id": "", "type": "AI"}, {"id": "i" * 101, "type": "AI"}]},
            {("nodes[0].id", "REQUIRED"), ("nodes[1].id", "TOO_LONG")},
        ),
        (
            lambda: {
                "nodes": [{"id": "a", "type": "AI"}],
                "connections": [{"source": "a", "target": "a", "condition": "c" * 1_001}],
            },
            {("connections[0].condition", "TOO_LONG")},
        ),
    ],
    ids=["nodes", "connections", "bytes", "node ids", "condition"],
)
async def test_size_and_length_limits(
    scratch: Scratch, make_input: Any, expected: set[tuple[str, str]]
) -> None:
    # given
    agent_id = await scratch.create_agent("limits")
    before = await scratch.counts()

    # when
    result = await save(scratch, agent_id, make_input())

    # then
    assert issues_of(result) == expected
    assert await scratch.counts() == before


@pytest.mark.parametrize("case", ["unknown", "other organization", "deleted"])
async def test_saving_for_an_agent_that_is_not_yours_or_not_live_is_not_found(
    scratch: Scratch, case: str
) -> None:
    # given
    if case == "unknown":
        agent_id = to_global_id("Agent", uuid.uuid4())
    elif case == "other organization":
        agent_id = await scratch.foreign_agent_id()
    else:
        agent_id = await scratch.create_deleted_agent()
    before = await scratch.counts()

    # when
    result = await save(scratch, agent_id, graph())

    # then
    assert result["__typename"] == "NotFound", result
    assert result["id"] == agent_id
    assert await scratch.counts() == before


async def test_a_malformed_agent_id_is_reported_with_the_graph_issues(scratch: Scratch) -> None:
    # when
    result = await save(
        scratch, "nope", {"nodes": [{"id": "d", "type": "DECISION"}]}, expected_version=-1
    )

    # then
    assert issues_of(result) == {
        ("agentId", "INVALID_ID"),
        ("expectedVersion", "OUT_OF_RANGE"),
        ("nodes[0]", "TOO_FEW_BRANCHES"),
    }


def test_node_types_outside_the_enum_are_reported_for_json_graphs() -> None:
    # given: a graph that did not come through the GraphQL enum (a workflow import, say)
    issues = Issues()

    # when
    checked = check_graph(
        issues,
        [NodeDraft(id="a", type="ai"), NodeDraft(id="b", type="teleport")],
        [EdgeDraft(source="a", target="b")],
    )

    # then
    assert [(i.path, i.code) for i in issues] == [("nodes[1].type", IssueCode.INVALID)]
    assert [node.id for node in checked.nodes] == ["a"]


def test_the_issue_list_is_capped_but_the_count_is_not() -> None:
    # given
    issues = Issues()

    # when
    check_graph(issues, [NodeDraft(id="", type="ai") for _ in range(300)], [])

    # then
    assert issues.total == 300
    assert len(list(issues)) == 200
