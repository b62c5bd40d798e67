"""Who may read, run, change and share a workflow and its executions: one definition
(`models.access.WORKFLOW_RULES`), and every path that reads or drives an execution agrees
with it, for every role (admin, user, viewer) and every relation the workflow may have to
them (owner, editor, viewer, public, creator, none).

The oracle is the definition itself (`models.access.allows`) over the stored workflow;
`test_the_rule_is_the_documented_table` pins the definition to the README's table."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from flowgate.search.indexer import index_all_pending
from flowgate.services import Services
from models import access as rules
from models.access import Action
from models.documents import Workflow, WorkflowVersion
from models.enums import UserRole
from models.sql import AuditLogEntry, Execution, WorkflowWebhook
from resolvers import access
from resolvers.ids import from_global_id, to_global_id
from tests.auth import ADMIN, USER, VIEWER, AsClient, bearer, client_as, error_codes
from tests.notifications import NOTIFICATIONS, SET_WEBHOOK, request_approval
from tests.scratch import Scratch, gql
from tests.ws import SubscriptionError, connect

RELATIONS = ("owner", "editor", "viewer", "public", "creator", "none")
ROLES = {"admin": ADMIN, "user": USER, "viewer": VIEWER}

CREATE_WORKFLOW = """
mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { __typename ... on CreateWorkflowPayload { workflow { id } } }
}
"""
START = """
mutation($a: ID, $w: ID, $input: JSON) {
  startExecution(agentId: $a, workflowId: $w, input: $input) {
    __typename ... on StartExecutionPayload { execution { id } }
  }
}
"""
STEP = """
mutation($id: ID!, $step: StepInput!, $key: String) {
  reportExecutionStep(executionId: $id, step: $step, idempotencyKey: $key) {
    __typename ... on ReportExecutionStepPayload { eventSeq }
  }
}
"""
FINISH = """
mutation($id: ID!) {
  finishExecution(executionId: $id, status: FAILED, error: "gave up") { __typename }
}
"""
CANCEL = """
mutation($id: ID!) { cancelExecution(executionId: $id) { __typename } }
"""
LOG = """
mutation($id: ID!, $message: String!) {
  appendExecutionLog(executionId: $id, message: $message) { __typename }
}
"""
READ_PATHS = """
query($w: ID!, $e: ID!, $a: ID!) {
  workflow(id: $w) { id executions(first: 50) { edges { node { id } } } }
  workflowNode: node(id: $w) { id }
  workflows(first: 100) { edges { node { id } } }
  execution(id: $e) { id events(first: 5) { totalCount edges { node { clientAddress } } } }
  executionNode: node(id: $e) { id }
  byWorkflow: executions(first: 50, filter: {workflowId: $w}) {
    totalCount edges { node { id } }
  }
  all: executions(first: 100, filter: {agentId: $a}) {
    totalCount edges { node { id workflow { id } } }
  }
  agent(id: $a) {
    executions(first: 50) { totalCount edges { node { id } } }
    stats { executions }
  }
}
"""
BY_WORKFLOW = """
query($w: ID!) { executions(first: 5, filter: {workflowId: $w}) { totalCount edges { cursor } } }
"""
SEARCH = """
query($q: String!) {
  search(query: $q, types: [EXECUTION, EXECUTION_EVENT], first: 100) {
    totalCount
    edges { node { object { __typename
      ... on Execution { id }
      ... on ExecutionEvent { execution { id } } } } }
  }
}
"""
PROGRESS = "subscription($id: ID!) { executionProgress(executionId: $id) { __typename } }"
UPDATES = "subscription { executionUpdates { id } }"


def gid(type_name: str, local: uuid.UUID) -> str:
    return to_global_id(type_name, local)


@dataclass
class World:
    """A scratch agent; per relation a workflow (per role for `creator`) with one execution
    of it; one execution of no workflow; clients of each role."""

    scratch: Scratch
    word: str
    members: dict[str, AsClient]
    agent_id: str = ""
    workflows: dict[tuple[str, str], str] = field(default_factory=dict)  # (role, relation)
    executions: dict[str, str] = field(default_factory=dict)  # workflow id -> execution id
    bare_execution: str = ""

    def workflow_of(self, role: str, relation: str) -> str:
        return self.workflows[(role, relation)]

    async def stored(self, workflow_id: str) -> Workflow:
        document = await Workflow.get(from_global_id(workflow_id)[1])
        assert document is not None
        return document

    async def readable(self, role: str, workflow_id: str) -> bool:
        """The oracle: the one definition, over the stored workflow."""
        principal = self.members[role].principal
        return rules.allows(principal, Action.READ, await self.stored(workflow_id))

    async def start(self, workflow_id: str | None, note: str) -> str:
        variables = {"a": self.agent_id, "w": workflow_id, "input": {"note": note}}
        started = (await gql(self.scratch.client, START, variables))["startExecution"]
        assert started["__typename"] == "StartExecutionPayload", started
        execution_id: str = started["execution"]["id"]
        return execution_id


async def _create_workflow(world: World, label: str, permissions: dict[str, Any]) -> str:
    input_ = {
        "name": world.scratch.name(label),
        "permissions": permissions,
        # The matrix starts many runs of each workflow and leaves them open.
        "settings": {"concurrency": 100},
        "nodes": [{"id": "run", "type": "ACTION", "label": "Run",
                   "data": {"agentId": world.agent_id}},
                  {"id": "review", "type": "HUMAN", "label": "Review"}],
        "edges": [],
    }  # fmt: skip
    made = (await gql(world.scratch.client, CREATE_WORKFLOW, {"input": input_}))["createWorkflow"]
    assert made["__typename"] == "CreateWorkflowPayload", made
    workflow_id: str = made["workflow"]["id"]
    return workflow_id


async def _build(world: World) -> None:
    world.agent_id = await world.scratch.create_agent("runner")
    admin = gid("User", world.members["admin"].principal.user_id)
    named = [gid("User", world.members[r].principal.user_id) for r in ("user", "viewer")]
    private = {"isPublic": False, "ownerIds": [admin]}
    by_relation = {
        "owner": {"isPublic": False, "ownerIds": named},
        "editor": {**private, "editorIds": named},
        "viewer": {**private, "viewerIds": named},
        "public": {"isPublic": True, "ownerIds": [admin]},
        "none": private,
    }
    for relation, permissions in by_relation.items():
        workflow_id = await _create_workflow(world, relation, permissions)
        for role in ROLES:
            world.workflows[(role, relation)] = workflow_id
    for role, member in world.members.items():
        # A workflow its member created (names nobody else): `created_by` as the store has it.
        workflow_id = await _create_workflow(world, f"creator-{role}", private)
        await Workflow.find_one({"_id": from_global_id(workflow_id)[1]}).update(
            {"$set": {"created_by": member.principal.user_id}}
        )
        world.workflows[(role, "creator")] = workflow_id
    for workflow_id in sorted(set(world.workflows.values())):
        world.executions[workflow_id] = await world.start(workflow_id, world.word)
    world.bare_execution = await world.start(None, world.word)


async def _remove_workflows(world: World) -> None:
    ids = [from_global_id(w)[1] for w in set(world.workflows.values())]
    await WorkflowVersion.find({"workflow_id": {"$in": ids}}).delete()
    await Workflow.find({"_id": {"$in": ids}}).delete()
    async with world.scratch.services.postgres.session() as session, session.begin():
        await session.execute(
            delete(AuditLogEntry).where(AuditLogEntry.object_id.in_([str(i) for i in ids]))
        )


@pytest.fixture
async def world(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: object
) -> AsyncIterator[World]:
    async with Scratch.open(services, app, client) as scratch, AsyncExitStack() as stack:
        members = {
            role: await stack.enter_async_context(client_as(app, services, email))
            for role, email in ROLES.items()
        }
        made = World(scratch, f"wombat{uuid.uuid4().hex[:8]}", members)
        try:
            await _build(made)
            yield made
        finally:
            await _remove_workflows(made)


def _ids(connection: dict[str, Any] | None) -> set[str]:
    return {edge["node"]["id"] for edge in (connection or {"edges": []})["edges"]}


# --- the definition ------------------------------------------------------------------------

# The README's table: which relations grant each action, per role (admins: everything).
DOCUMENTED = {
    (UserRole.USER, Action.READ): {"owner", "editor", "viewer", "public", "creator"},
    (UserRole.VIEWER, Action.READ): {"owner", "editor", "viewer", "public", "creator"},
    (UserRole.USER, Action.RUN): {"owner", "editor", "public", "creator"},
    (UserRole.VIEWER, Action.RUN): set(),
    (UserRole.USER, Action.CHANGE): {"owner", "editor", "creator"},
    (UserRole.VIEWER, Action.CHANGE): set(),
    (UserRole.USER, Action.SHARE): {"owner", "creator"},
    (UserRole.VIEWER, Action.SHARE): set(),
}


async def test_the_rule_is_the_documented_table_in_every_derived_form(world: World) -> None:
    for role in ROLES:
        principal = world.members[role].principal
        for action in Action:
            # when: the Python predicate, and the MongoDB filter run against the store
            matched = {
                str(w.id)
                for w in await Workflow.find(rules.mongo_filter(principal, action)).to_list()
            }
            for relation in RELATIONS:
                workflow = await world.stored(world.workflow_of(role, relation))
                granted = rules.allows(principal, action, workflow)
                # then: both forms say what the table says
                expected = (
                    principal.role is UserRole.ADMIN
                    or relation in DOCUMENTED[(principal.role, action)]
                )
                assert granted is expected, (role, action, relation)
                assert (str(workflow.id) in matched) is granted, (role, action, relation)
                if action is Action.READ and principal.role is not UserRole.ADMIN:
                    # the search readers: the whole organization, or the user named
                    readers = rules.readers(workflow)
                    assert (readers is None or principal.user_id in readers) is granted


async def test_readable_ids_and_the_sql_predicate_agree_with_the_definition(
    world: World,
) -> None:
    services = world.scratch.services
    admin = world.members["admin"].principal
    assert await access.readable_workflow_ids(services.mongo, admin) is None
    for role in ("user", "viewer"):
        principal = world.members[role].principal
        # when
        ids = await access.readable_workflow_ids(services.mongo, principal)
        # then: exactly the organization's workflows the definition lets it read
        organization = await Workflow.find({"organization_id": principal.organization_id}).to_list()
        expected = {str(w.id) for w in organization if rules.allows(principal, Action.READ, w)}
        assert ids == frozenset(expected)
        async with services.postgres.session() as session:
            rows = (
                await session.scalars(
                    select(Execution).where(Execution.organization_id == principal.organization_id)
                )
            ).all()
            visible = await session.scalar(
                select(func.count()).where(access.execution_visible(principal, ids))
            )
        assert visible == sum(access.may_read_execution(principal, e, ids) for e in rows)
        assert visible < len(rows)  # the matrix's "none" workflow's execution at least


# --- every read path -----------------------------------------------------------------------


async def test_every_read_path_shows_an_execution_exactly_when_its_workflow_is_readable(
    world: World,
) -> None:
    stranger = gid("Workflow", uuid.uuid4())
    for role, member in world.members.items():
        nothing = (await member.post(BY_WORKFLOW, {"w": stranger}))["data"]
        for relation in RELATIONS:
            workflow_id = world.workflow_of(role, relation)
            execution_id = world.executions[workflow_id]
            expected = await world.readable(role, workflow_id)
            where = (role, relation)
            # when
            body = await member.post(
                READ_PATHS, {"w": workflow_id, "e": execution_id, "a": world.agent_id}
            )
            # then
            assert "errors" not in body, (where, body["errors"])
            data = body["data"]
            assert (data["workflow"] is not None) is expected, where
            assert (data["workflowNode"] is not None) is expected, where
            assert (workflow_id in _ids(data["workflows"])) is expected, where
            assert (data["execution"] is not None) is expected, where
            if expected:  # its event log comes with it; the client's address to admins only
                events = data["execution"]["events"]
                assert events["totalCount"] >= 1, where
                addresses = {edge["node"]["clientAddress"] for edge in events["edges"]}
                assert (addresses == {None}) is (role != "admin"), where
            assert (data["executionNode"] is not None) is expected, where
            assert (execution_id in _ids(data["byWorkflow"])) is expected, where
            assert (execution_id in _ids(data["all"])) is expected, where
            assert (execution_id in _ids(data["agent"]["executions"])) is expected, where
            # the agent's figures count what its connection lists, no more
            assert (
                data["agent"]["stats"]["executions"] == data["agent"]["executions"]["totalCount"]
            ), where
            if expected:
                assert _ids(data["workflow"]["executions"]) == {execution_id}, where
                # its workflow shows on it (compiled: a MongoDB field of the root's nodes)
                shown = {e["node"]["id"]: e["node"]["workflow"] for e in data["all"]["edges"]}
                assert shown[execution_id] == {"id": workflow_id}, where
            else:
                # filtering by it says no more than filtering by a workflow that never was
                hidden = await member.post(BY_WORKFLOW, {"w": workflow_id})
                assert "errors" not in hidden, where
                assert hidden["data"] == nothing == {"executions": {"totalCount": 0, "edges": []}}
            # the execution of no workflow: every member reads it
            assert world.bare_execution in _ids(data["all"]), where


async def test_search_finds_executions_and_events_exactly_when_readable(world: World) -> None:
    # given: a failed step per execution, its error carrying the world's word
    step = {"nodeId": "run", "nodeType": "ACTION", "status": "FAILED",
            "error": f"the {world.word} step broke"}  # fmt: skip
    for execution_id in [*world.executions.values(), world.bare_execution]:
        reported = await gql(world.scratch.client, STEP, {"id": execution_id, "step": step})
        assert reported["reportExecutionStep"]["__typename"] == "ReportExecutionStepPayload"
    await index_all_pending(world.scratch.services, world.scratch.services.search)

    for role, member in world.members.items():
        expected = {world.bare_execution} | {
            execution_id
            for workflow_id, execution_id in world.executions.items()
            if await world.readable(role, workflow_id)
        }
        # when
        body = await member.post(SEARCH, {"q": world.word})
        # then: each readable execution twice (itself and its step's event), no other
        assert "errors" not in body, body["errors"]
        found = body["data"]["search"]
        objects = [edge["node"]["object"] for edge in found["edges"]]
        executions = [o["id"] for o in objects if o["__typename"] == "Execution"]
        events = [o["execution"]["id"] for o in objects if o["__typename"] == "ExecutionEvent"]
        assert sorted(executions) == sorted(expected), role
        assert sorted(events) == sorted(expected), role
        # the index's own count agrees: execution and event documents carry readers
        assert found["totalCount"] == 2 * len(expected), role


SHARE = """
mutation($id: ID!, $input: UpdateWorkflowInput!) {
  updateWorkflow(id: $id, input: $input, expectedVersion: 1) { __typename }
}
"""


async def test_sharing_a_workflow_reindexes_its_executions_for_search(world: World) -> None:
    # given: the private workflow's execution, indexed while the user may not read it
    user = world.members["user"]
    workflow_id = world.workflow_of("user", "none")
    await index_all_pending(world.scratch.services, world.scratch.services.search)
    found = await user.post(SEARCH, {"q": world.word})
    assert world.executions[workflow_id] not in str(found["data"])
    # when: the admin names the user a viewer of it
    share = {"permissions": {"viewerIds": [gid("User", user.principal.user_id)]}}
    shared = await gql(world.scratch.client, SHARE, {"id": workflow_id, "input": share})
    assert shared["updateWorkflow"]["__typename"] == "UpdateWorkflowPayload"
    await index_all_pending(world.scratch.services, world.scratch.services.search)
    # then: its execution's document now names the user among its readers
    found = await user.post(SEARCH, {"q": world.word})
    hits = [edge["node"]["object"] for edge in found["data"]["search"]["edges"]]
    assert world.executions[workflow_id] in {hit.get("id") for hit in hits}


async def test_both_subscriptions_agree_with_the_definition(world: World, live_server: str) -> None:
    url = f"ws://{live_server}/graphql"
    for role, member in world.members.items():
        async with connect(url, bearer(member.secret)) as ws:
            for relation in RELATIONS:
                workflow_id = world.workflow_of(role, relation)
                expected = await world.readable(role, workflow_id)
                # when: progress of the workflow's execution
                operation = await ws.subscribe(PROGRESS, {"id": world.executions[workflow_id]})
                try:
                    first = await anext(aiter(ws.results(operation)))
                except SubscriptionError as error:
                    first = {"errors": error.errors}
                codes = [e["extensions"]["code"] for e in first.get("errors") or []]
                # then: the replayed events, or "not found"
                if expected:
                    assert codes == [], (role, relation, first)
                    assert first["data"]["executionProgress"]["__typename"] == "ExecutionEvent"
                    await ws.send({"id": operation, "type": "complete"})
                else:
                    assert codes == ["NOT_FOUND"], (role, relation)

    # executionUpdates: each member sees the status changes of what it may read
    sockets = {}
    async with AsyncExitStack() as stack:
        for role, member in world.members.items():
            ws = await stack.enter_async_context(connect(url, bearer(member.secret)))
            sockets[role] = (ws, await ws.subscribe(UPDATES))
        await asyncio.sleep(0.3)  # registered (the protocol does not acknowledge it)
        # when: every execution is cancelled, the one of no workflow last
        for execution_id in [*world.executions.values(), world.bare_execution]:
            cancelled = await gql(world.scratch.client, CANCEL, {"id": execution_id})
            assert cancelled["cancelExecution"]["__typename"] == "FinishExecutionPayload"
        for role, (ws, operation) in sockets.items():
            seen: set[str] = set()
            async for payload in ws.results(operation):
                seen.add(payload["data"]["executionUpdates"]["id"])
                if world.bare_execution in seen:
                    break
            expected = {world.bare_execution} | {
                execution_id
                for workflow_id, execution_id in world.executions.items()
                if await world.readable(role, workflow_id)
            }
            # then
            assert seen == expected, role


BOARD = "subscription { executionUpdates(progress: true) { id kind } }"
FIGURES = """
subscription($a: ID!) {
  dashboardStatsChanged(window: 3600, filter: {agentId: $a}) { totalExecutions since until }
}
"""
STATS = """
query($a: ID!, $since: DateTime!, $until: DateTime!) {
  dashboardStats(agentId: $a, since: $since, until: $until) { totalExecutions since until }
}
"""


async def test_the_board_and_the_live_figures_agree_with_the_definition(
    world: World, live_server: str
) -> None:
    url = f"ws://{live_server}/graphql"
    async with AsyncExitStack() as stack:
        sockets = {}
        for role, member in world.members.items():
            ws = await stack.enter_async_context(connect(url, bearer(member.secret)))
            expected = {world.bare_execution} | {
                execution_id
                for workflow_id, execution_id in world.executions.items()
                if await world.readable(role, workflow_id)
            }
            # the figures: those of what the member may read, as dashboardStats gives them
            figures_operation = await ws.subscribe(FIGURES, {"a": world.agent_id})
            figures = (await anext(aiter(ws.results(figures_operation))))["data"]
            figures = figures["dashboardStatsChanged"]
            assert figures["totalExecutions"] == len(expected), role
            window = {"a": world.agent_id, "since": figures["since"], "until": figures["until"]}
            assert (await member.post(STATS, window))["data"]["dashboardStats"] == figures, role
            await ws.send({"id": figures_operation, "type": "complete"})
            sockets[role] = (ws, await ws.subscribe(BOARD), expected)
        await asyncio.sleep(0.3)  # registered (the protocol does not acknowledge it)
        # when: a step of every execution, the one of no workflow last
        for execution_id in [*world.executions.values(), world.bare_execution]:
            step = {"nodeId": "run", "status": "SUCCEEDED", "nodeType": "ACTION"}
            stepped = await gql(world.scratch.client, STEP, {"id": execution_id, "step": step})
            assert stepped["reportExecutionStep"]["__typename"] == "ReportExecutionStepPayload"
        for role, (ws, operation, expected) in sockets.items():
            seen: set[str] = set()
            async for payload in ws.results(operation):
                item = payload["data"]["executionUpdates"]
                seen.add(item["id"])
                if item["id"] == world.bare_execution and item["kind"] == "PROGRESS":
                    break
            # then: progress of exactly what the member may read
            assert seen == expected, role


# --- driving executions --------------------------------------------------------------------


def _drive_expected(role: str, relation: str) -> str:
    """What the README promises: viewers may not write at all; a workflow's execution is
    not found unless the workflow is readable, forbidden unless it is runnable."""
    if role == "viewer":
        return "FORBIDDEN"
    if role == "admin":
        return "ok"
    user_rules = {"owner": "ok", "editor": "ok", "public": "ok", "creator": "ok",
                  "viewer": "Forbidden", "none": "NotFound"}  # fmt: skip
    return user_rules[relation]


def _outcome(body: dict[str, Any], field_name: str) -> str:
    if body.get("errors"):
        return ",".join(error_codes(body))
    typename: str = body["data"][field_name]["__typename"]
    return "ok" if typename.endswith("Payload") else typename


async def test_driving_an_execution_takes_the_workflows_read_and_run_permission(
    world: World,
) -> None:
    step = {"nodeId": "run", "nodeType": "ACTION", "status": "STARTED"}
    admin = gid("User", world.members["admin"].principal.user_id)
    for role, member in world.members.items():
        for relation in RELATIONS:
            workflow_id = world.workflow_of(role, relation)
            expected = _drive_expected(role, relation)
            for mutation, field_name, extra in (
                (STEP, "reportExecutionStep", {"step": step}),
                (FINISH, "finishExecution", {}),
                (CANCEL, "cancelExecution", {}),
                (REQUEST_APPROVAL, "requestApproval", {"approvers": [admin]}),
                (LOG, "appendExecutionLog", {"message": "a line"}),
            ):
                execution_id = await world.start(workflow_id, "drive")
                before = await _state(world, execution_id)
                # when
                body = await member.post(mutation, {"id": execution_id, **extra})
                # then
                assert _outcome(body, field_name) == expected, (role, relation, field_name)
                if expected != "ok":
                    assert await _state(world, execution_id) == before  # nothing written


# --- approvals, pause and resume ----------------------------------------------------------

REQUEST_APPROVAL = """
mutation($id: ID!, $approvers: [ID!]) {
  requestApproval(executionId: $id, nodeId: "review", approvers: $approvers) {
    __typename ... on ApprovalPayload { approval { id } }
  }
}
"""
PAUSE = "mutation($id: ID!) { pauseExecution(executionId: $id) { __typename } }"
RESUME = "mutation($id: ID!) { resumeExecution(executionId: $id) { __typename } }"
DECIDE = """
mutation($id: ID!) { decideApproval(approvalId: $id, decision: APPROVE) { __typename } }
"""
APPROVALS = "query($e: ID!) { execution(id: $e) { approvals { id } } }"
INBOX = "{ pendingApprovals(first: 100) { edges { node { id } } } }"
COMMANDS = """
subscription($w: ID!) { executionCommands(workflowId: $w, after: "c2VxOjA") { kind } }
"""


def _operate_expected(role: str, relation: str) -> str:
    """Pausing and resuming take CHANGE (README): owners, editors and creators who are
    users, and admins; viewers may not write at all."""
    if role == "viewer":
        return "FORBIDDEN"
    if role == "admin":
        return "ok"
    user_rules = {"owner": "ok", "editor": "ok", "creator": "ok", "public": "Forbidden",
                  "viewer": "Forbidden", "none": "NotFound"}  # fmt: skip
    return user_rules[relation]


def _decide_expected(role: str, relation: str) -> str:
    """Deciding an approval that does not name them: admins, and users who may share the
    workflow (its owners and creator); the rest that read it are forbidden."""
    if role == "admin":
        return "ok"
    if relation == "none":
        return "NotFound"
    return "ok" if role == "user" and relation in {"owner", "creator"} else "Forbidden"


async def test_pausing_resuming_and_deciding_follow_the_rule(world: World) -> None:
    admin = gid("User", world.members["admin"].principal.user_id)
    for role, member in world.members.items():
        for relation in RELATIONS:
            workflow_id = world.workflow_of(role, relation)
            where = (role, relation)
            # pause, then resume (the admin pauses first where the member may not)
            execution_id = await world.start(workflow_id, "operate")
            expected = _operate_expected(role, relation)
            before = await _state(world, execution_id)
            body = await member.post(PAUSE, {"id": execution_id})
            assert _outcome(body, "pauseExecution") == expected, where
            if expected != "ok":
                assert await _state(world, execution_id) == before, where
                await gql(world.scratch.client, PAUSE, {"id": execution_id})
            body = await member.post(RESUME, {"id": execution_id})
            assert _outcome(body, "resumeExecution") == expected, where

            # an approval naming only the admin: who else may decide it
            execution_id = await world.start(workflow_id, "decide")
            asked = await gql(
                world.scratch.client, REQUEST_APPROVAL, {"id": execution_id, "approvers": [admin]}
            )
            approval_id = asked["requestApproval"]["approval"]["id"]
            readable = await world.readable(role, workflow_id)
            shown = (await member.post(APPROVALS, {"e": execution_id}))["data"]["execution"]
            assert (shown == {"approvals": [{"id": approval_id}]}) is readable, where
            assert shown is None or readable, where
            body = await member.post(DECIDE, {"id": approval_id})
            assert _outcome(body, "decideApproval") == _decide_expected(role, relation), where


async def test_the_inbox_and_the_engines_stream_follow_the_rule(
    world: World, live_server: str
) -> None:
    # given: per relation, a paused run with an approval naming the admin and the user
    # (where the user may read it: approvers must)
    named = {role: gid("User", world.members[role].principal.user_id) for role in ("admin", "user")}
    approvals = {}
    for relation in RELATIONS:
        workflow_id = world.workflow_of("user", relation)
        execution_id = await world.start(workflow_id, "inbox")
        approvers = [named["admin"]]
        if await world.readable("user", workflow_id):
            approvers.append(named["user"])
        asked = await gql(
            world.scratch.client, REQUEST_APPROVAL, {"id": execution_id, "approvers": approvers}
        )
        approvals[relation] = asked["requestApproval"]["approval"]["id"]
    # when: the user unshares nothing, but the admin narrows one workflow after asking
    shared_then_hidden = world.workflow_of("user", "viewer")
    await Workflow.find_one({"_id": from_global_id(shared_then_hidden)[1]}).update(
        {"$set": {"permissions.viewers": []}}
    )
    # then: the user's inbox holds exactly the approvals of runs it may read now
    inbox = (await world.members["user"].post(INBOX))["data"]["pendingApprovals"]
    mine = {edge["node"]["id"] for edge in inbox["edges"]}
    for relation in RELATIONS:
        expected = await world.readable("user", world.workflow_of("user", relation))
        assert (approvals[relation] in mine) is expected, relation

    # and: an engine's stream of a workflow's commands, exactly for whom may read it
    url = f"ws://{live_server}/graphql"
    for role, member in world.members.items():
        async with connect(url, bearer(member.secret)) as ws:
            for relation in RELATIONS:
                workflow_id = world.workflow_of(role, relation)
                operation = await ws.subscribe(COMMANDS, {"w": workflow_id})
                try:
                    first = await anext(aiter(ws.results(operation, timeout=1.5)))
                except SubscriptionError as error:
                    first = {"errors": error.errors}
                except TimeoutError:
                    first = {}  # nothing to hear yet: the stream was accepted
                codes = [e["extensions"]["code"] for e in first.get("errors") or []]
                if role == "viewer":
                    assert codes == ["FORBIDDEN"], (role, relation)
                elif await world.readable(role, workflow_id):
                    assert codes == [], (role, relation, first)
                    await ws.send({"id": operation, "type": "complete"})
                else:
                    assert codes == ["NOT_FOUND"], (role, relation)


async def _state(world: World, execution_id: str) -> tuple[Any, ...]:
    async with world.scratch.services.postgres.session() as session:
        row = await session.get(Execution, from_global_id(execution_id)[1])
    assert row is not None
    return (
        row.status,
        row.nodes_done,
        row.last_event_seq,
        row.updated_at,
        row.human_interventions,
    )


async def test_an_idempotency_key_replays_nothing_to_whom_may_not_drive(world: World) -> None:
    # given: the admin reported a step of the private workflow's execution, with a key
    execution_id = world.executions[world.workflow_of("user", "none")]
    variables = {
        "id": execution_id,
        "step": {"nodeId": "run", "nodeType": "ACTION", "status": "FAILED",
                 "error": "broke", "cost": 9999},
        "key": f"step-{uuid.uuid4().hex}",
    }  # fmt: skip
    first = await gql(world.scratch.client, STEP, variables)
    assert first["reportExecutionStep"]["__typename"] == "ReportExecutionStepPayload"
    # when: a member who may not read the workflow sends the same call with the same key
    body = await world.members["user"].post(STEP, variables)
    # then: not found, not the admin's answer
    assert _outcome(body, "reportExecutionStep") == "NotFound"


async def test_an_execution_of_no_workflow_is_driven_by_its_starter_or_agent_owner(
    world: World,
) -> None:
    user, viewer = world.members["user"], world.members["viewer"]
    step = {"nodeId": "run", "nodeType": "ACTION", "status": "STARTED"}
    # given: the admin's run of the admin's agent; the user's run of it; the admin's run
    # of an agent the user owns
    admins_run = await world.start(None, "drive")
    started = await user.post(START, {"a": world.agent_id})
    users_run = started["data"]["startExecution"]["execution"]["id"]
    made = await user.post(
        'mutation($n: String!) { createAgent(input: {name: $n, category: "t"}) '
        "{ ... on CreateAgentPayload { agent { id } } } }",
        {"n": world.scratch.name("users-agent")},
    )
    users_agent = made["data"]["createAgent"]["agent"]["id"]
    run_of_users_agent = (await gql(world.scratch.client, START, {"a": users_agent}))[
        "startExecution"
    ]["execution"]["id"]

    async def drive(member: AsClient, execution_id: str) -> str:
        body = await member.post(STEP, {"id": execution_id, "step": step})
        return _outcome(body, "reportExecutionStep")

    # then
    assert await drive(user, admins_run) == "Forbidden"
    assert await drive(user, users_run) == "ok"
    assert await drive(user, run_of_users_agent) == "ok"
    assert await drive(viewer, admins_run) == "FORBIDDEN"
    assert await drive(world.members["admin"], users_run) == "ok"


# --- round trips ---------------------------------------------------------------------------


async def test_a_member_pays_one_mongodb_round_trip_for_the_readable_ids_whatever_the_page(
    app: FastAPI, services: Services, client: httpx.AsyncClient, seeded: object
) -> None:
    from tests.test_round_trips import DASHBOARD_QUERY, EXECUTIONS_QUERY

    async def trips(http: httpx.AsyncClient, query: str, n: int) -> dict[str, int]:
        response = await http.post("/graphql", json={"query": query, "variables": {"n": n}})
        body = response.json()
        assert "errors" not in body, body["errors"]
        counted: dict[str, int] = body["extensions"]["roundTrips"]
        return counted

    async with client_as(app, services, USER) as member:
        for query in (DASHBOARD_QUERY, EXECUTIONS_QUERY):
            await trips(member.http, query, 1)  # warm
            # when
            small, large = await trips(member.http, query, 5), await trips(member.http, query, 50)
            as_admin = await trips(client, query, 50)
            # then: fixed by shape; the readable ids are one MongoDB round trip, asked once
            assert small == large
            assert large == {"sql": as_admin["sql"], "mongo": as_admin["mongo"] + 1}


# --- notifications and webhooks ------------------------------------------------------------

WEBHOOK = "query($w: ID!) { workflow(id: $w) { webhook { url } } }"
DELIVERY_LOG = "query($w: ID!) { webhookDeliveries(workflowId: $w) { totalCount } }"


async def test_notifications_and_webhooks_follow_the_rule(world: World) -> None:
    services = world.scratch.services
    try:
        await _notifications_follow_the_rule(world)
    finally:
        ids = [from_global_id(w)[1] for w in set(world.workflows.values())]
        async with services.postgres.session() as session, session.begin():
            await session.execute(
                delete(WorkflowWebhook).where(WorkflowWebhook.workflow_id.in_(ids))
            )


async def _notifications_follow_the_rule(world: World) -> None:
    services = world.scratch.services
    admin = world.members["admin"]
    people = [member.principal.user_id for member in world.members.values()]
    # given: an approval waiting on every member at a run of each workflow, and a webhook
    for workflow_id, execution_id in world.executions.items():
        await request_approval(services, admin.principal, execution_id, people)
        hooked = await admin.post(SET_WEBHOOK, {"w": workflow_id, "url": "https://example.com/h"})
        assert hooked["data"]["setWorkflowWebhook"]["__typename"] == "SetWorkflowWebhookPayload"
    for role, member in world.members.items():
        body = await member.post(NOTIFICATIONS, {"unread": False, "first": 100})
        told = [edge["node"]["details"]["workflowId"]
                for edge in body["data"]["notifications"]["edges"]]  # fmt: skip
        for relation in RELATIONS:
            workflow_id = world.workflow_of(role, relation)
            stored = await world.stored(workflow_id)
            readable = rules.allows(member.principal, Action.READ, stored)
            changeable = rules.allows(member.principal, Action.CHANGE, stored)
            where = (role, relation)
            # then: told exactly when the workflow is readable, once
            assert told.count(workflow_id) == (1 if readable else 0), where
            # the webhook and its delivery log: exactly to those who may change the workflow
            log = await member.post(DELIVERY_LOG, {"w": workflow_id})
            expected_code = None if changeable else "FORBIDDEN" if readable else "NOT_FOUND"
            assert (error_codes(log) or [None]) == [expected_code], where
            data = (await member.post(WEBHOOK, {"w": workflow_id}))["data"]
            if readable:
                assert (data["workflow"]["webhook"] is not None) is changeable, where
            else:
                assert data["workflow"] is None, where
            # setting it: the same rule (a viewer's role may change nothing at all)
            setting = await member.post(
                SET_WEBHOOK, {"w": workflow_id, "url": "https://example.com/h"}
            )
            if member.principal.role is UserRole.VIEWER:
                assert error_codes(setting) == ["FORBIDDEN"], where
                continue
            expected = (
                "SetWorkflowWebhookPayload" if changeable
                else "Forbidden" if readable else "NotFound"
            )  # fmt: skip
            assert setting["data"]["setWorkflowWebhook"]["__typename"] == expected, where
