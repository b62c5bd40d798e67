"""`restoreWorkflowVersion` through HTTP: an earlier version's content becomes the next
version (the replaced one kept), permissions and status stay; the version check, bad input,
who may restore (the workflow rules), a node calling an agent deleted since, and audit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowgate.services import Services
from models.documents import Workflow, WorkflowContent, WorkflowVersion
from resolvers.ids import from_global_id, to_global_id
from tests.auth import USER, client_as, user_by_email
from tests.scratch import DELETE_AGENT, Scratch, gql
from tests.test_workflow_mutations import WorkflowScratch, archive, create, graph, update

RESTORE = """
mutation Restore($id: ID!, $version: Int!, $expected: Int!) {
  restoreWorkflowVersion(id: $id, version: $version, expectedVersion: $expected) {
    __typename
    ... on RestoreWorkflowVersionPayload {
      workflow { version name tags nodes { id } edges { id } permissions { isPublic }
                 versions { version name } } }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
    ... on VersionConflict { currentVersion }
  }
}
"""


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


async def restore(
    client: httpx.AsyncClient, workflow_id: str, version: int, expected: int
) -> dict[str, Any]:
    variables = {"id": workflow_id, "version": version, "expected": expected}
    result: dict[str, Any] = (await gql(client, RESTORE, variables))["restoreWorkflowVersion"]
    return result


async def _three_versions(
    workflows: WorkflowScratch, client: httpx.AsyncClient, **extra: Any
) -> str:
    """A workflow at version 3: v1 the graph, v2 renamed and tagged, v3 made public."""
    name = workflows.scratch.name("flow")
    created = await create(client, {"name": name, **graph(), **extra})
    assert created["__typename"] == "CreateWorkflowPayload", created
    workflow_id: str = created["workflow"]["id"]
    await update(client, workflow_id, {"name": f"{name}-2", "tags": ["new"], "nodes": [],
                                       "edges": []}, 1)  # fmt: skip
    await update(client, workflow_id, {"permissions": {"isPublic": True}}, 2)
    return workflow_id


async def test_an_earlier_version_becomes_the_next_one(
    workflows: WorkflowScratch, client: httpx.AsyncClient
) -> None:
    # given
    workflow_id = await _three_versions(workflows, client)

    # when
    result = await restore(client, workflow_id, 1, 3)

    # then: v1's content as v4; the permissions of v3 stay; v3 is kept
    assert result["__typename"] == "RestoreWorkflowVersionPayload", result
    workflow = result["workflow"]
    assert workflow["version"] == 4
    assert workflow["name"] == workflows.scratch.name("flow")
    assert workflow["tags"] == []
    assert [node["id"] for node in workflow["nodes"]] == ["classify", "route", "reply", "escalate"]
    assert len(workflow["edges"]) == 3
    assert workflow["permissions"] == {"isPublic": True}
    assert [v["version"] for v in workflow["versions"]] == [3, 2, 1]
    entry = (await workflows.scratch.audit_entries(from_global_id(workflow_id)[1]))[-1]
    assert entry.action == "workflow.restore"
    assert entry.summary["restored_from"] == 1
    assert entry.summary["version"] == {"old": 3, "new": 4}


async def test_every_content_field_comes_back_but_permissions_and_status(
    workflows: WorkflowScratch, client: httpx.AsyncClient
) -> None:
    # given: version 2 differs from version 1 in every field of the content base
    name = workflows.scratch.name("every")
    first_input = {"description": "one", "tags": ["one"], "category": "one", **graph()}
    created = await create(client, {"name": name, **first_input, "settings": {"maxRetries": 1}})
    workflow_id = created["workflow"]["id"]
    second_input = {"description": "two", "tags": ["two"], "category": "two", "nodes": [],
                    "edges": [], "status": "ACTIVE", "settings": {"maxRetries": 2},
                    "permissions": {"isPublic": True}}  # fmt: skip
    await update(client, workflow_id, {"name": f"{name}-2", **second_input}, 1)
    local_id = from_global_id(workflow_id)[1]
    first = await WorkflowVersion.find_one({"workflow_id": local_id, "version": 1})
    second = await Workflow.find_one({"_id": local_id})
    assert first is not None and second is not None
    # A field added to the content base must be changed above for this test to pass.
    assert {
        field for field in WorkflowContent.model_fields
        if getattr(first, field) == getattr(second, field)
    } == set()  # fmt: skip

    # when
    result = await restore(client, workflow_id, 1, 2)

    # then: every field as version 1 had it, but who may see it and its status
    assert result["__typename"] == "RestoreWorkflowVersionPayload", result
    restored = await Workflow.find_one({"_id": local_id})
    assert restored is not None
    expected = {
        field: getattr(second if field in ("permissions", "status") else first, field)
        for field in WorkflowContent.model_fields
    }
    assert restored.content() == expected


async def test_a_stale_expected_version_conflicts(
    workflows: WorkflowScratch, client: httpx.AsyncClient
) -> None:
    workflow_id = await _three_versions(workflows, client)

    result = await restore(client, workflow_id, 1, 2)

    assert (result["__typename"], result["currentVersion"]) == ("VersionConflict", 3)


@pytest.mark.parametrize(
    ("version", "expected", "issues"),
    [
        (0, 3, {("version", "OUT_OF_RANGE")}),
        (3, 3, {("version", "OUT_OF_RANGE")}),  # the current one is not earlier
        (9, 3, {("version", "OUT_OF_RANGE")}),
        (1, 0, {("expectedVersion", "OUT_OF_RANGE")}),
        (-1, -1, {("version", "OUT_OF_RANGE"), ("expectedVersion", "OUT_OF_RANGE")}),
    ],
)
async def test_bad_versions_are_field_issues(
    workflows: WorkflowScratch,
    client: httpx.AsyncClient,
    version: int,
    expected: int,
    issues: set[tuple[str, str]],
) -> None:
    workflow_id = await _three_versions(workflows, client)

    result = await restore(client, workflow_id, version, expected)

    assert result["__typename"] == "ValidationError", result
    assert {(i["path"], i["code"]) for i in result["issues"]} == issues


@pytest.mark.parametrize("bad_id", ["nope", to_global_id("Agent", uuid.UUID(int=1))])
async def test_a_malformed_id_is_a_field_issue(
    workflows: WorkflowScratch, client: httpx.AsyncClient, bad_id: str
) -> None:
    result = await restore(client, bad_id, 1, 2)

    assert result["__typename"] == "ValidationError", result
    assert {(i["path"], i["code"]) for i in result["issues"]} == {("id", "INVALID_ID")}


async def test_an_archived_workflow_is_not_restored(
    workflows: WorkflowScratch, client: httpx.AsyncClient
) -> None:
    workflow_id = await _three_versions(workflows, client)
    await archive(client, workflow_id)

    result = await restore(client, workflow_id, 1, 4)

    assert result["__typename"] == "InvalidTransition", result


async def test_a_node_calling_an_agent_deleted_since_refuses_the_restore(
    workflows: WorkflowScratch, client: httpx.AsyncClient
) -> None:
    # given: version 1 calls an agent, deleted after version 2 dropped that node
    agent = await workflows.scratch.create_agent("called")
    name = workflows.scratch.name("calls")
    created = await create(client, {"name": name, **graph(called_agent=agent)})
    workflow_id = created["workflow"]["id"]
    await update(client, workflow_id, {"nodes": [], "edges": []}, 1)
    await gql(client, DELETE_AGENT, {"id": agent})

    # when
    result = await restore(client, workflow_id, 1, 2)

    # then
    assert result["__typename"] == "ValidationError", result
    assert {(i["path"], i["code"]) for i in result["issues"]} == {
        ("version.nodes[3].data.agentId", "NOT_FOUND")
    }


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        (None, "NotFound"),
        ("viewerIds", "Forbidden"),
        ("editorIds", "RestoreWorkflowVersionPayload"),
    ],
)
async def test_who_may_restore_follows_the_workflow_rules(
    workflows: WorkflowScratch,
    client: httpx.AsyncClient,
    app: FastAPI,
    services: Services,
    relation: str | None,
    expected: str,
) -> None:
    # given: a private workflow of the admin, naming the user in `relation` (or not at all)
    member = await user_by_email(services, USER)
    permissions = {relation: [to_global_id("User", member.id)]} if relation else {}
    name = workflows.scratch.name("rules")
    created = await create(client, {"name": name, **graph(), "permissions": permissions})
    workflow_id = created["workflow"]["id"]
    await update(client, workflow_id, {"tags": ["two"]}, 1)

    # when
    async with client_as(app, services, USER) as user:
        result = await user.post(RESTORE, {"id": workflow_id, "version": 1, "expected": 2})

    # then
    assert result["data"]["restoreWorkflowVersion"]["__typename"] == expected, result
