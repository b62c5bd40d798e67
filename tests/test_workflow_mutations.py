"""`createWorkflow`, `updateWorkflow`, `archiveWorkflow` through HTTP: every field's rules
with each violation at its path, versions under concurrency, the versions kept and listed,
and nothing written (in either store) when anything is wrong.

Workflows created here are named with the test's prefix; at teardown they, their kept
versions and their audit entries are deleted, together with what `Scratch` removes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from flowgate.services import Services
from models.documents import Workflow, WorkflowVersion
from models.sql import AuditLogEntry, User
from resolvers.ids import from_global_id, to_global_id
from tests.auth import ADMIN, USER, VIEWER, bearer, client_as, error_codes, user_by_email
from tests.scratch import Scratch, gql
from tests.ws import connect

WORKFLOW_FIELDS = """
  id name description version status tags category createdAt updatedAt
  nodes { id type label data agent { id } }
  edges { source target condition }
  settings {
    timeoutSeconds maxRetries concurrency notifyOnFailure notifyOnSuccess notificationChannels
  }
  permissions { ownerIds editorIds viewerIds isPublic }
  owner { id }
"""

ERROR_FIELDS = """
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
"""
# Only the members of update's and archive's unions.
LOOKUP_ERROR_FIELDS = """
    ... on NotFound { id }
    ... on VersionConflict { currentVersion }
"""

CREATE_WORKFLOW = f"""
mutation CreateWorkflow($input: CreateWorkflowInput!) {{
  createWorkflow(input: $input) {{
    __typename
    ... on CreateWorkflowPayload {{ workflow {{ {WORKFLOW_FIELDS} }} }}
    {ERROR_FIELDS}
  }}
}}
"""

UPDATE_WORKFLOW = f"""
mutation UpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!, $expectedVersion: Int!) {{
  updateWorkflow(id: $id, input: $input, expectedVersion: $expectedVersion) {{
    __typename
    ... on UpdateWorkflowPayload {{ workflow {{ {WORKFLOW_FIELDS} }} }}
    {ERROR_FIELDS}
    {LOOKUP_ERROR_FIELDS}
  }}
}}
"""

ARCHIVE_WORKFLOW = f"""
mutation ArchiveWorkflow($id: ID!) {{
  archiveWorkflow(id: $id) {{
    __typename
    ... on ArchiveWorkflowPayload {{ workflow {{ {WORKFLOW_FIELDS} }} }}
    {ERROR_FIELDS}
    {LOOKUP_ERROR_FIELDS}
  }}
}}
"""

WORKFLOW = """
query Workflow($id: ID!) {
  workflow(id: $id) {
    id name version status tags
    settings { timeoutSeconds maxRetries }
    versions {
      version name description status tags category savedAt replacedAt
      nodes { id agent { id } }
      edges { source target condition }
      settings { maxRetries }
      permissions { ownerIds isPublic }
      replacedBy { id }
    }
  }
}
"""


class WorkflowScratch:
    """`Scratch`, plus the workflows a test creates (named with its prefix)."""

    def __init__(self, scratch: Scratch, app: FastAPI) -> None:
        self.scratch = scratch
        self.app = app
        self.client = scratch.client
        self.name = scratch.name

    async def create(self, label: str = "workflow", **fields: Any) -> dict[str, Any]:
        """A new workflow through the API; the payload's workflow."""
        result = await create(self.client, {"name": self.name(label), **fields})
        assert result["__typename"] == "CreateWorkflowPayload", result
        workflow: dict[str, Any] = result["workflow"]
        return workflow

    async def counts(self) -> dict[str, int]:
        organization_id = self.scratch.organization_id
        return {
            **await self.scratch.counts(),
            "workflows": await Workflow.find({"organization_id": organization_id}).count(),
            "workflow_versions": await WorkflowVersion.find(
                {"organization_id": organization_id}
            ).count(),
        }

    async def user_ids(self, organization_id: uuid.UUID | None = None) -> list[uuid.UUID]:
        """Seeded users of the organization (the test's own by default), read only."""
        async with self.scratch.services.postgres.session() as session:
            query = (
                select(User.id)
                .where(User.organization_id == (organization_id or self.scratch.organization_id))
                .order_by(User.email)
            )
            return list((await session.scalars(query)).all())

    async def remove_workflows(self) -> None:
        pattern = {"$regex": f"^{self.scratch.prefix}"}  # the prefix is [a-z0-9-] only
        ids = [w.id for w in await Workflow.find({"name": pattern}).to_list()]
        await WorkflowVersion.find({"workflow_id": {"$in": ids}}).delete()
        await Workflow.find({"_id": {"$in": ids}}).delete()
        async with self.scratch.services.postgres.session() as session, session.begin():
            await session.execute(
                delete(AuditLogEntry).where(AuditLogEntry.object_id.in_([str(i) for i in ids]))
            )


@pytest.fixture
async def scratch(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: object
) -> AsyncIterator[WorkflowScratch]:
    async with Scratch.open(services, app, client) as base:
        workflows = WorkflowScratch(base, app)
        try:
            yield workflows
        finally:
            await workflows.remove_workflows()


async def create(client: httpx.AsyncClient, input_: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(client, CREATE_WORKFLOW, {"input": input_}))[
        "createWorkflow"
    ]
    return result


async def update(
    client: httpx.AsyncClient, workflow_id: str, input_: dict[str, Any], expected_version: int
) -> dict[str, Any]:
    variables = {"id": workflow_id, "input": input_, "expectedVersion": expected_version}
    result: dict[str, Any] = (await gql(client, UPDATE_WORKFLOW, variables))["updateWorkflow"]
    return result


async def archive(client: httpx.AsyncClient, workflow_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(client, ARCHIVE_WORKFLOW, {"id": workflow_id}))[
        "archiveWorkflow"
    ]
    return result


async def read(client: httpx.AsyncClient, workflow_id: str) -> dict[str, Any]:
    workflow: dict[str, Any] = (await gql(client, WORKFLOW, {"id": workflow_id}))["workflow"]
    return workflow


def issues_of(result: dict[str, Any]) -> set[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return {(issue["path"], issue["code"]) for issue in result["issues"]}


def graph(*, called_agent: str | None = None) -> dict[str, Any]:
    """A valid graph: classify -> route -> (reply | escalate)."""
    escalate: dict[str, Any] = {"id": "escalate", "type": "ACTION", "label": "Escalate"}
    if called_agent is not None:
        escalate["data"] = {"agentId": called_agent}
    return {
        "nodes": [
            {"id": "classify", "type": "AI", "label": "Classify"},
            {"id": "route", "type": "DECISION", "label": "Urgent?"},
            {"id": "reply", "type": "AI", "label": "Reply"},
            escalate,
        ],
        "edges": [
            {"source": "classify", "target": "route"},
            {"source": "route", "target": "reply", "condition": "not urgent"},
            {"source": "route", "target": "escalate", "condition": "urgent"},
        ],
    }


def user_gid(user_id: uuid.UUID) -> str:
    return to_global_id("User", user_id)


async def stored(workflow_id: str) -> Workflow:
    document = await Workflow.get(from_global_id(workflow_id)[1])
    assert document is not None
    return document


async def audit_actions(scratch: WorkflowScratch, workflow_id: str) -> list[str]:
    entries = await scratch.scratch.audit_entries(from_global_id(workflow_id)[1])
    return [entry.action for entry in entries]


# --- createWorkflow ------------------------------------------------------------------------


async def test_create_workflow_stores_the_cleaned_workflow_and_audits_it(
    scratch: WorkflowScratch,
) -> None:
    # given: an agent the graph calls, and users of the organization
    agent_id = await scratch.scratch.create_agent("called")
    first, second, *_ = await scratch.user_ids()

    # when
    result = await create(
        scratch.client,
        {
            "name": f"  {scratch.name('support')}  ",
            "description": "Routes tickets",
            "status": "ACTIVE",
            **graph(called_agent=agent_id),
            "tags": [" support ", "triage", "support"],
            "category": "customer care",
            "settings": {"maxRetries": 5, "notificationChannels": ["#ops", "#ops", "email"]},
            "permissions": {
                "ownerIds": [user_gid(first)],
                "editorIds": [user_gid(second), user_gid(second)],
                "isPublic": True,
            },
        },
    )

    # then: trimmed, deduplicated, defaults where omitted
    assert result["__typename"] == "CreateWorkflowPayload", result
    workflow = result["workflow"]
    assert workflow["name"] == scratch.name("support")
    assert (workflow["version"], workflow["status"]) == (1, "ACTIVE")
    assert workflow["tags"] == ["support", "triage"]
    assert workflow["category"] == "customer care"
    assert workflow["settings"] == {
        "timeoutSeconds": 3600, "maxRetries": 5, "concurrency": 1,
        "notifyOnFailure": True, "notifyOnSuccess": False,
        "notificationChannels": ["#ops", "email"],
    }  # fmt: skip
    assert workflow["permissions"] == {
        "ownerIds": [user_gid(first)], "editorIds": [user_gid(second)], "viewerIds": [],
        "isPublic": True,
    }  # fmt: skip
    assert workflow["nodes"][3]["agent"] == {"id": agent_id}
    assert workflow["edges"][1] == {"source": "route", "target": "reply", "condition": "not urgent"}
    # the caller (the admin `client` signs in as) is the creator; owners were given
    admin = await user_by_email(scratch.scratch.services, ADMIN)
    assert workflow["owner"] == {"id": user_gid(admin.id)}
    document = await stored(workflow["id"])
    assert document.organization_id == scratch.scratch.organization_id
    assert document.nodes[3].data["agentId"] == str(from_global_id(agent_id)[1])
    # the read API shows it, with no earlier versions
    read_back = await read(scratch.client, workflow["id"])
    assert (read_back["name"], read_back["version"], read_back["versions"]) == (
        scratch.name("support"), 1, []
    )  # fmt: skip
    # and it is audited once written
    [entry] = await scratch.scratch.audit_entries(document.id)
    assert (entry.action, entry.object_type) == ("workflow.create", "Workflow")
    assert entry.summary["version"] == {"old": 0, "new": 1}
    assert set(entry.summary["changed"]) == {
        "name", "description", "status", "nodes", "edges", "tags", "category", "settings",
        "permissions",
    }  # fmt: skip
    assert entry.summary["new"]["name"] == scratch.name("support")


async def test_create_workflow_with_only_a_name_takes_the_defaults(
    scratch: WorkflowScratch,
) -> None:
    # when
    workflow = await scratch.create("minimal")

    # then
    assert (workflow["status"], workflow["category"], workflow["version"]) == (
        "DRAFT",
        "general",
        1,
    )
    assert (workflow["nodes"], workflow["edges"], workflow["tags"]) == ([], [], [])
    assert workflow["settings"]["timeoutSeconds"] == 3600
    # the creator (the admin `client` signs in as) owns it
    admin = await user_by_email(scratch.scratch.services, ADMIN)
    assert workflow["permissions"]["ownerIds"] == [user_gid(admin.id)]


async def test_create_workflow_reports_every_issue_at_its_path_and_writes_nothing(
    scratch: WorkflowScratch,
) -> None:
    # given: users of this organization and of the other, and agents that cannot be called
    mine = await scratch.user_ids()
    [foreign_user, *_] = await scratch.user_ids(scratch.scratch.other_organization_id)
    foreign_agent = await scratch.scratch.foreign_agent_id()
    deleted_agent = await scratch.scratch.create_deleted_agent()
    before = await scratch.counts()

    # when
    result = await create(
        scratch.client,
        {
            "name": "   ",
            "description": "d" * 5_001,
            "status": "ARCHIVED",
            "nodes": [
                {"id": "a", "type": "AI"},
                {"id": "a", "type": "ACTION"},
                {"id": "call", "type": "ACTION", "data": {"agentId": foreign_agent}},
                {"id": "gone", "type": "ACTION", "data": {"agentId": deleted_agent}},
                {"id": "choose", "type": "DECISION"},
            ],
            "edges": [{"source": "a", "target": "nowhere"}],
            "tags": ["ok", "", "t" * 51],
            "category": "c" * 101,
            "settings": {
                "timeoutSeconds": 0,
                "maxRetries": 11,
                "concurrency": 101,
                "notificationChannels": ["#ops", " "],
            },
            "permissions": {
                "ownerIds": ["not-an-id"],
                "editorIds": [user_gid(mine[0]), user_gid(mine[1]), user_gid(foreign_user)],
                "viewerIds": [user_gid(uuid.uuid4()), to_global_id("Agent", mine[0])],
            },
        },
    )

    # then: all of them, each at its path
    assert issues_of(result) == {
        ("name", "REQUIRED"),
        ("description", "TOO_LONG"),
        ("status", "INVALID"),
        ("nodes[1].id", "DUPLICATE"),
        ("nodes[2].data.agentId", "NOT_FOUND"),
        ("nodes[3].data.agentId", "NOT_FOUND"),
        ("nodes[4]", "TOO_FEW_BRANCHES"),
        ("edges[0].target", "UNKNOWN_NODE"),
        ("tags[1]", "REQUIRED"),
        ("tags[2]", "TOO_LONG"),
        ("category", "TOO_LONG"),
        ("settings.timeoutSeconds", "OUT_OF_RANGE"),
        ("settings.maxRetries", "OUT_OF_RANGE"),
        ("settings.concurrency", "OUT_OF_RANGE"),
        ("settings.notificationChannels[1]", "REQUIRED"),
        ("permissions.ownerIds[0]", "INVALID_ID"),
        ("permissions.editorIds[2]", "NOT_FOUND"),
        ("permissions.viewerIds[0]", "NOT_FOUND"),
        ("permissions.viewerIds[1]", "INVALID_ID"),
    }
    assert "19 problems" in result["message"]
    assert await scratch.counts() == before


@pytest.mark.parametrize(
    ("input_", "expected"),
    [
        ({"name": "n" * 201}, {("name", "TOO_LONG")}),
        ({"tags": [f"t{i}" for i in range(31)]}, {("tags", "TOO_MANY")}),
        ({"settings": {"timeoutSeconds": 86_401, "maxRetries": -1}},
         {("settings.timeoutSeconds", "OUT_OF_RANGE"), ("settings.maxRetries", "OUT_OF_RANGE")}),
        ({"settings": {"notificationChannels": [f"c{i}" for i in range(21)]}},
         {("settings.notificationChannels", "TOO_MANY")}),
        ({"permissions": {"viewerIds": [to_global_id("User", uuid.uuid4())] * 101}},
         {("permissions.viewerIds", "TOO_MANY")}),
        ({"nodes": [{"id": f"n{i}", "type": "AI"} for i in range(501)]}, {("nodes", "TOO_MANY")}),
        ({"nodes": [{"id": "a", "type": "AI", "data": {"prompt": "p" * 270_000}}]},
         {("input", "TOO_LARGE")}),
        ({"settings": None, "permissions": {"isPublic": None}},
         {("settings", "REQUIRED"), ("permissions.isPublic", "REQUIRED")}),
    ],
    ids=["name", "tags", "timeout", "channels", "permission ids", "nodes", "bytes", "nulls"],
)  # fmt: skip
async def test_create_workflow_checks_each_limit(
    scratch: WorkflowScratch, input_: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    # given
    before = await scratch.counts()

    # when
    result = await create(scratch.client, {"name": scratch.name("limits"), **input_})

    # then
    assert issues_of(result) == expected
    assert await scratch.counts() == before


async def test_a_creator_with_a_user_id_is_the_owner_unless_owners_are_given(
    scratch: WorkflowScratch,
) -> None:
    # given: a member with the user role
    async with client_as(scratch.app, scratch.scratch.services, USER) as member:
        creator = member.principal.user_id
        other = next(u for u in await scratch.user_ids() if u != creator)

        async def create_as_user(input_: dict[str, Any]) -> dict[str, Any]:
            body = await member.post(CREATE_WORKFLOW, {"input": input_})
            assert "errors" not in body, body
            result: dict[str, Any] = body["data"]["createWorkflow"]
            assert result["__typename"] == "CreateWorkflowPayload", result
            return result

        # when
        defaulted = (await create_as_user({"name": scratch.name("mine")}))["workflow"]
        given = await create_as_user(
            {"name": scratch.name("theirs"), "permissions": {"ownerIds": [user_gid(other)]}}
        )

    # then
    assert defaulted["permissions"]["ownerIds"] == [user_gid(creator)]
    assert defaulted["owner"] == {"id": user_gid(creator)}
    assert (await stored(defaulted["id"])).created_by == creator
    assert given["workflow"]["permissions"]["ownerIds"] == [user_gid(other)]
    assert given["workflow"]["owner"] == {"id": user_gid(creator)}


# --- updateWorkflow ------------------------------------------------------------------------


async def test_update_changes_only_the_given_fields_and_keeps_the_version_it_replaced(
    scratch: WorkflowScratch,
) -> None:
    # given
    agent_id = await scratch.scratch.create_agent("called")
    original = await scratch.create(
        "original", tags=["a"], settings={"timeoutSeconds": 60}, **graph(called_agent=agent_id)
    )

    # when
    result = await update(
        scratch.client,
        original["id"],
        {"name": scratch.name("renamed"), "settings": {"maxRetries": 7}},
        expected_version=1,
    )

    # then: those fields changed, the others kept, the version bumped
    assert result["__typename"] == "UpdateWorkflowPayload", result
    workflow = result["workflow"]
    assert (workflow["name"], workflow["version"]) == (scratch.name("renamed"), 2)
    assert workflow["settings"]["timeoutSeconds"] == 60
    assert workflow["settings"]["maxRetries"] == 7
    assert (workflow["tags"], workflow["nodes"], workflow["edges"]) == (
        original["tags"], original["nodes"], original["edges"]
    )  # fmt: skip
    assert workflow["updatedAt"] > original["updatedAt"]
    # version 1 is kept, as it was
    [kept] = (await read(scratch.client, original["id"]))["versions"]
    assert (kept["version"], kept["name"], kept["tags"]) == (1, scratch.name("original"), ["a"])
    assert kept["settings"] == {"maxRetries": 3}
    assert kept["nodes"][3]["agent"] == {"id": agent_id}
    assert kept["savedAt"] == original["updatedAt"]
    admin = await user_by_email(scratch.scratch.services, ADMIN)
    assert kept["replacedBy"] == {"id": user_gid(admin.id)}  # who made the next version
    # and the change is audited with old and new values
    [created, updated] = await scratch.scratch.audit_entries(from_global_id(original["id"])[1])
    assert (created.action, updated.action) == ("workflow.create", "workflow.update")
    assert updated.summary["version"] == {"old": 1, "new": 2}
    assert updated.summary["changed"] == ["name", "settings"]
    assert updated.summary["old"]["name"] == scratch.name("original")
    assert updated.summary["new"]["settings"]["max_retries"] == 7


async def test_versions_lists_every_earlier_version_newest_first(
    scratch: WorkflowScratch,
) -> None:
    # given: version 1 with no graph, version 2 renamed, version 3 with a graph
    workflow = await scratch.create("v1", description="first")
    second = await update(scratch.client, workflow["id"], {"name": scratch.name("v2")}, 1)
    assert second["__typename"] == "UpdateWorkflowPayload", second
    third = await update(
        scratch.client, workflow["id"], {**graph(), "description": "third", "tags": ["x"]}, 2
    )
    assert third["__typename"] == "UpdateWorkflowPayload", third

    # when
    read_back = await read(scratch.client, workflow["id"])

    # then
    assert (read_back["version"], read_back["name"]) == (3, scratch.name("v2"))
    assert [
        (v["version"], v["name"], v["description"], v["tags"], len(v["nodes"]))
        for v in read_back["versions"]
    ] == [
        (2, scratch.name("v2"), "first", [], 0),
        (1, scratch.name("v1"), "first", [], 0),
    ]
    snapshots = await WorkflowVersion.find(
        {"workflow_id": from_global_id(workflow["id"])[1]}
    ).to_list()
    assert sorted(s.version for s in snapshots) == [1, 2]
    assert await audit_actions(scratch, workflow["id"]) == [
        "workflow.create", "workflow.update", "workflow.update"
    ]  # fmt: skip


async def test_a_stale_expected_version_conflicts_and_changes_nothing(
    scratch: WorkflowScratch,
) -> None:
    # given: version 2
    workflow = await scratch.create("stale")
    await update(scratch.client, workflow["id"], {"description": "v2"}, 1)
    before = await scratch.counts()

    # when
    result = await update(scratch.client, workflow["id"], {"description": "stale"}, 1)

    # then
    assert result["__typename"] == "VersionConflict", result
    assert (result["code"], result["currentVersion"]) == ("VERSION_CONFLICT", 2)
    document = await stored(workflow["id"])
    assert (document.version, document.description) == (2, "v2")
    assert await scratch.counts() == before


async def test_concurrent_updates_from_the_same_version_have_exactly_one_winner(
    scratch: WorkflowScratch,
) -> None:
    # given
    workflow = await scratch.create("raced")
    contenders = 6

    # when
    results = await asyncio.gather(
        *(
            update(scratch.client, workflow["id"], {"description": f"c{n}"}, 1)
            for n in range(contenders)
        )
    )

    # then
    winners = [r for r in results if r["__typename"] == "UpdateWorkflowPayload"]
    losers = [r for r in results if r["__typename"] == "VersionConflict"]
    assert len(winners) == 1, results
    assert len(losers) == contenders - 1, results
    assert {loser["currentVersion"] for loser in losers} == {2}
    document = await stored(workflow["id"])
    assert document.version == 2
    assert document.description == winners[0]["workflow"]["description"]
    # one snapshot of version 1, equal to what version 1 was; one audited update
    versions = (await read(scratch.client, workflow["id"]))["versions"]
    assert [(v["version"], v["description"]) for v in versions] == [(1, "")]
    assert await audit_actions(scratch, workflow["id"]) == ["workflow.create", "workflow.update"]


async def test_a_snapshot_left_by_an_interrupted_update_is_invisible_then_reused(
    scratch: WorkflowScratch,
) -> None:
    # given: a crash between the two writes: the snapshot of version 1 exists, but the
    # workflow is still at version 1
    workflow = await scratch.create("interrupted", description="one")
    await WorkflowVersion.of(await stored(workflow["id"]), created_by=None).insert()

    # when / then: not listed as an earlier version
    assert (await read(scratch.client, workflow["id"]))["versions"] == []

    # when: the retry
    result = await update(scratch.client, workflow["id"], {"description": "two"}, 1)

    # then: the retry succeeds, and version 1 is kept once
    assert result["__typename"] == "UpdateWorkflowPayload", result
    versions = (await read(scratch.client, workflow["id"]))["versions"]
    assert [(v["version"], v["description"]) for v in versions] == [(1, "one")]


async def test_an_invalid_update_reports_every_issue_and_writes_nothing(
    scratch: WorkflowScratch,
) -> None:
    # given: a workflow with a graph
    workflow = await scratch.create("kept", **graph())
    before = await scratch.counts()

    # when: the nodes lose one that a stored edge enters, and other fields are null or bad
    result = await update(
        scratch.client,
        workflow["id"],
        {
            "nodes": [
                {"id": "classify", "type": "AI"},
                {"id": "route", "type": "DECISION"},
                {"id": "reply", "type": "AI"},
            ],
            "name": None,
            "tags": None,
            "status": "ARCHIVED",
            "settings": {"concurrency": 0, "notifyOnFailure": None},
            "permissions": {"ownerIds": [to_global_id("User", uuid.uuid4())]},
        },
        expected_version=1,
    )

    # then
    assert issues_of(result) == {
        ("edges[2].target", "UNKNOWN_NODE"),
        ("name", "REQUIRED"),
        ("tags", "REQUIRED"),
        ("status", "INVALID"),
        ("settings.concurrency", "OUT_OF_RANGE"),
        ("settings.notifyOnFailure", "REQUIRED"),
        ("permissions.ownerIds[0]", "NOT_FOUND"),
    }
    assert await scratch.counts() == before
    document = await stored(workflow["id"])
    assert (document.version, len(document.nodes)) == (1, 4)


async def test_a_malformed_id_and_expected_version_are_field_issues(
    scratch: WorkflowScratch,
) -> None:
    # when
    result = await update(scratch.client, "nope", {"name": ""}, expected_version=0)

    # then
    assert issues_of(result) == {
        ("id", "INVALID_ID"),
        ("expectedVersion", "OUT_OF_RANGE"),
        ("name", "REQUIRED"),
    }


@pytest.mark.parametrize("case", ["unknown", "other organization", "not a workflow"])
async def test_changing_a_workflow_that_is_not_yours_is_not_found(
    scratch: WorkflowScratch, case: str
) -> None:
    # given
    if case == "unknown":
        workflow_id = to_global_id("Workflow", uuid.uuid4())
    elif case == "other organization":
        foreign = await Workflow.find_one(
            {"organization_id": scratch.scratch.other_organization_id}
        )
        assert foreign is not None, "the seed gives both organizations workflows"
        workflow_id = to_global_id("Workflow", foreign.id)
    else:  # an id of an agent, but of the right shape
        workflow_id = to_global_id(
            "Workflow", from_global_id(await scratch.scratch.create_agent())[1]
        )
    before = await scratch.counts()

    # when
    updated = await update(scratch.client, workflow_id, {"description": "x"}, 1)
    archived = await archive(scratch.client, workflow_id)

    # then
    for result in (updated, archived):
        assert result["__typename"] == "NotFound", result
        assert result["id"] == workflow_id
    assert await scratch.counts() == before


# --- archiveWorkflow -----------------------------------------------------------------------


async def test_archive_makes_a_new_version_and_a_second_archive_is_an_invalid_transition(
    scratch: WorkflowScratch,
) -> None:
    # given: an active workflow at version 2
    workflow = await scratch.create("archived", status="ACTIVE")
    await update(scratch.client, workflow["id"], {"tags": ["old"]}, 1)

    # when
    result = await archive(scratch.client, workflow["id"])

    # then
    assert result["__typename"] == "ArchiveWorkflowPayload", result
    assert (result["workflow"]["status"], result["workflow"]["version"]) == ("ARCHIVED", 3)
    assert result["workflow"]["tags"] == ["old"]
    versions = (await read(scratch.client, workflow["id"]))["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(2, "ACTIVE"), (1, "ACTIVE")]
    entry = (await scratch.scratch.audit_entries(from_global_id(workflow["id"])[1]))[-1]
    assert entry.action == "workflow.archive"
    assert entry.summary == {
        "version": {"old": 2, "new": 3},
        "changed": ["status"],
        "old": {"status": "active"},
        "new": {"status": "archived"},
    }

    # when: archived again, or changed
    before = await scratch.counts()
    again = await archive(scratch.client, workflow["id"])
    changed = await update(scratch.client, workflow["id"], {"description": "x"}, 3)

    # then
    for refused in (again, changed):
        assert refused["__typename"] == "InvalidTransition", refused
        assert refused["code"] == "INVALID_TRANSITION"
    assert "archived" in again["message"]
    assert await scratch.counts() == before


async def test_concurrent_archives_have_exactly_one_winner(scratch: WorkflowScratch) -> None:
    # given
    workflow = await scratch.create("archived-raced")

    # when
    results = await asyncio.gather(*(archive(scratch.client, workflow["id"]) for _ in range(5)))

    # then
    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["ArchiveWorkflowPayload"] + ["InvalidTransition"] * 4, results
    document = await stored(workflow["id"])
    assert (document.version, document.status.value) == (2, "archived")
    assert await audit_actions(scratch, workflow["id"]) == ["workflow.create", "workflow.archive"]


async def test_a_malformed_id_to_archive_is_a_field_issue(scratch: WorkflowScratch) -> None:
    # when
    result = await archive(scratch.client, to_global_id("Agent", uuid.uuid4()))

    # then
    assert issues_of(result) == {("id", "INVALID_ID")}


# --- permissions ---------------------------------------------------------------------------


async def test_a_viewer_is_forbidden_every_change_and_nothing_is_written(
    scratch: WorkflowScratch,
) -> None:
    # given: a viewer of the same organization
    workflow = await scratch.create("viewed")
    before = await scratch.counts()

    # when
    results = []
    async with client_as(scratch.app, scratch.scratch.services, VIEWER) as viewer:
        for query, variables in (
            (CREATE_WORKFLOW, {"input": {"name": scratch.name("nope")}}),
            (
                UPDATE_WORKFLOW,
                {"id": workflow["id"], "input": {"name": "x"}, "expectedVersion": 1},
            ),
            (ARCHIVE_WORKFLOW, {"id": workflow["id"]}),
        ):
            results.append(await viewer.post(query, variables))

    # then
    assert [error_codes(r) for r in results] == [["FORBIDDEN"]] * 3
    assert await scratch.counts() == before
    assert (await stored(workflow["id"])).version == 1


# --- workflow permissions ------------------------------------------------------------------

READ_ONE = "query($id: ID!) { workflow(id: $id) { id } node(id: $id) { id } }"
LIST_IDS = "{ workflows(first: 100) { edges { node { id } } } }"


async def test_workflow_permissions_decide_who_reads_changes_and_shares(
    scratch: WorkflowScratch,
) -> None:
    async with client_as(scratch.app, scratch.scratch.services, USER) as member:
        me = user_gid(member.principal.user_id)
        # given: a private workflow of the admin, naming nobody else
        private = await scratch.create("private", permissions={"isPublic": False})
        wid = private["id"]

        async def reads() -> bool:
            body = await member.post(READ_ONE, {"id": wid})
            listed = await member.post(LIST_IDS)
            ids = {e["node"]["id"] for e in listed["data"]["workflows"]["edges"]}
            assert (body["data"]["workflow"] is None) == (body["data"]["node"] is None)
            assert (body["data"]["workflow"] is not None) == (wid in ids)
            return body["data"]["workflow"] is not None

        async def rename(version: int) -> str:
            body = await member.post(
                UPDATE_WORKFLOW,
                {"id": wid, "input": {"description": f"v{version}"}, "expectedVersion": version},
            )
            return str(body["data"]["updateWorkflow"]["__typename"])

        # then: invisible to a member it does not name: not found, never forbidden
        assert not await reads()
        assert await rename(1) == "NotFound"

        # when: the admin makes the member a viewer: read, but not change
        await update(scratch.client, wid, {"permissions": {"viewerIds": [me]}}, 1)
        assert await reads()
        assert await rename(2) == "Forbidden"

        # when: an editor: change, but not share
        await update(scratch.client, wid, {"permissions": {"editorIds": [me]}}, 2)
        assert await rename(3) == "UpdateWorkflowPayload"
        share = await member.post(
            UPDATE_WORKFLOW,
            {"id": wid, "input": {"permissions": {"isPublic": True}}, "expectedVersion": 4},
        )
        assert share["data"]["updateWorkflow"]["__typename"] == "Forbidden"
        assert (await stored(wid)).permissions.is_public is False


async def test_a_private_workflows_figures_and_live_updates_stay_private(
    scratch: WorkflowScratch, live_server: str
) -> None:
    # given: a private workflow that calls a scratch agent, and a plain agent
    called = await scratch.scratch.create_agent("called")
    plain = await scratch.scratch.create_agent("plain")
    private = await scratch.create(
        "private-live", permissions={"isPublic": False}, **graph(called_agent=called)
    )
    start = (
        "mutation($a: ID, $w: ID) { startExecution(agentId: $a, workflowId: $w) { __typename } }"
    )
    stats = "query($w: ID!) { dashboardStats(workflowId: $w) { totalExecutions } }"

    async with client_as(scratch.app, scratch.scratch.services, USER) as member:
        # figures: refused to a member the workflow does not name, given to the admin
        refused = await member.post(stats, {"w": private["id"]})
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert "errors" not in await gql_body(scratch.client, stats, {"w": private["id"]})

        # live updates: the member sees the plain agent's run, not the private workflow's
        async with connect(f"ws://{live_server}/graphql", bearer(member.secret)) as ws:
            updates = await ws.subscribe(
                "subscription { executionUpdates { execution { agent { id } } } }"
            )
            await asyncio.sleep(0.3)  # registered (the protocol does not acknowledge it)
            for variables in ({"w": private["id"]}, {"a": plain}):
                started = await gql(scratch.client, start, variables)
                assert started["startExecution"]["__typename"] == "StartExecutionPayload"
            first = await anext(aiter(ws.results(updates)))
    assert first["data"]["executionUpdates"]["execution"]["agent"] == {"id": plain}


async def gql_body(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    return (await client.post("/graphql", json={"query": query, "variables": variables})).json()
