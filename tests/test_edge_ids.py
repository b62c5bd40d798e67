"""Ids on the edges of workflows and flowcharts: the client's own, or given at save
(`source->target`, numbered when a pair repeats); unique; read back through the API; graphs
stored before edges had ids read with the same derived ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowgate.services import Services
from models.documents import Workflow
from models.documents.common import Connection, edge_ids
from resolvers.ids import from_global_id
from resolvers.validation.graph import EdgeDraft, NodeDraft, check_graph
from resolvers.validation.issues import IssueCode, Issues
from tests.scratch import Scratch
from tests.test_workflow_mutations import WorkflowScratch, create

NODES = [NodeDraft(id="a", type="ai"), NodeDraft(id="b", type="ai"), NodeDraft(id="c", type="ai")]


def test_ids_left_out_are_given_from_the_ends_and_never_collide() -> None:
    # given: a repeated pair, and a client id that looks like a derived one
    edges = [
        EdgeDraft("a", "b"),
        EdgeDraft("a", "b"),
        EdgeDraft("b", "c", id="a->b#3"),
        EdgeDraft("a", "b"),
        EdgeDraft("a", "c", id="mine"),
    ]
    issues = Issues()

    # when
    checked = check_graph(issues, NODES, edges)

    # then
    assert list(issues) == []
    assert [edge.id for edge in checked.edges] == ["a->b", "a->b#2", "a->b#3", "a->b#4", "mine"]


@pytest.mark.parametrize(
    ("edge_id", "code"),
    [("", IssueCode.REQUIRED), ("x" * 101, IssueCode.TOO_LONG), ("nul\x00", IssueCode.INVALID)],
)
def test_a_bad_edge_id_is_reported_at_its_path(edge_id: str, code: IssueCode) -> None:
    issues = Issues()

    checked = check_graph(issues, NODES, [EdgeDraft("a", "b"), EdgeDraft("b", "c", id=edge_id)])

    assert [(i.path, i.code) for i in issues] == [("connections[1].id", code)]
    assert [edge.id for edge in checked.edges] == ["a->b"]


def test_a_duplicate_edge_id_is_reported_against_the_first() -> None:
    issues = Issues()

    check_graph(issues, NODES, [EdgeDraft("a", "b", id="e"), EdgeDraft("b", "c", id="e")])

    ((path, code, message),) = [(i.path, i.code, i.message) for i in issues]
    assert (path, code) == ("connections[1].id", IssueCode.DUPLICATE)
    assert "connections[0]" in message


def test_stored_edges_without_ids_read_with_the_derived_ones() -> None:
    old = [Connection(source="a", target="b"), Connection(source="a", target="b")]
    assert edge_ids(old) == ["a->b", "a->b#2"]


@pytest.fixture
async def workflows(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: object
) -> AsyncIterator[WorkflowScratch]:
    async with Scratch.open(services, app, client) as base:
        scratch = WorkflowScratch(base, app)
        try:
            yield scratch
        finally:
            await scratch.remove_workflows()


EDGE_IDS = "query($id: ID!) { workflow(id: $id) { edges { id source target } } }"


async def test_workflow_edges_have_ids_through_the_api(
    workflows: WorkflowScratch, client: httpx.AsyncClient
) -> None:
    # given
    input_: dict[str, Any] = {
        "name": workflows.scratch.name("edges"),
        "nodes": [{"id": n, "type": "AI", "label": n} for n in ("a", "b")],
        "edges": [{"source": "a", "target": "b", "id": "first"}, {"source": "b", "target": "a"}],
    }

    # when
    created = await create(client, input_)
    workflow_id = created["workflow"]["id"]
    read_back = await client.post("/graphql", json={"query": EDGE_IDS,
                                                   "variables": {"id": workflow_id}})  # fmt: skip

    # then: stored with their ids, and read back with them
    edges = read_back.json()["data"]["workflow"]["edges"]
    assert edges == [
        {"id": "first", "source": "a", "target": "b"},
        {"id": "b->a", "source": "b", "target": "a"},
    ]
    stored = await Workflow.get(from_global_id(workflow_id)[1])
    assert stored is not None
    assert [edge.id for edge in stored.edges] == ["first", "b->a"]
