"""Tenancy: a principal of another organization, holding the ids of the first, learns
nothing. Every root query, mutation and subscription is walked; the walk fails when the
schema gains a root field without a case here, so no new field escapes the check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from flowgate.services import Services
from models.documents import Workflow
from models.sql import Agent, ApiKey, AuditLogEntry, Execution, User
from resolvers.ids import from_global_id, to_global_id
from schema import schema
from tests.auth import ADMIN, OTHER_ADMIN, AsClient, api_key_for, client_as, error_codes
from tests.scratch import Scratch
from tests.ws import GraphQLWebSocket, SubscriptionError, connect


@dataclass(frozen=True)
class Foreign:
    """Global ids of the first organization's objects (seeded, read only)."""

    agent: str
    execution: str
    workflow: str
    user: str
    api_key: str
    agent_ids: frozenset[str]


@pytest.fixture
async def foreign(services: Services, seeded: object) -> Foreign:
    _, admin = await api_key_for(services, ADMIN, "tenancy")
    org = admin.organization_id
    async with services.postgres.session() as session:
        agents = (await session.scalars(select(Agent.id).where(Agent.organization_id == org))).all()
        execution = await session.scalar(
            select(Execution.id).where(Execution.organization_id == org).limit(1)
        )
        user = await session.scalar(
            select(User.id).where(User.organization_id == org, User.id != admin.user_id).limit(1)
        )
        key = await session.scalar(select(ApiKey.id).where(ApiKey.organization_id == org).limit(1))
    workflow = await Workflow.find_one({"organization_id": org})
    assert execution and user and key and workflow
    return Foreign(
        agent=to_global_id("Agent", agents[0]),
        execution=to_global_id("Execution", execution),
        workflow=to_global_id("Workflow", workflow.id),
        user=to_global_id("User", user),
        api_key=to_global_id("ApiKey", key),
        agent_ids=frozenset(to_global_id("Agent", a) for a in agents),
    )


@pytest.fixture
async def outsider(app: FastAPI, services: Services) -> Any:
    async with client_as(app, services, OTHER_ADMIN) as client:
        yield client


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def _ids_of_connection(outsider: AsClient, field: str) -> set[str]:
    body = await outsider.post(f"{{ {field}(first: 100) {{ edges {{ node {{ id }} }} }} }}")
    return {edge["node"]["id"] for edge in _data(body)[field]["edges"]}


QUERY_CASES = {
    "agent": "query($a: ID!) { agent(id: $a) { id } }",
    "execution": "query($e: ID!) { execution(id: $e) { id } }",
    "workflow": "query($w: ID!) { workflow(id: $w) { id } }",
    "flowchart": "query($a: ID!) { flowchart(agentId: $a) { id } }",
}


async def test_every_root_query_hides_the_other_organization(
    outsider: AsClient, foreign: Foreign, services: Services
) -> None:
    variables = {"a": foreign.agent, "e": foreign.execution, "w": foreign.workflow}
    checked: set[str] = set()

    # by id: null, as for an id that names nothing
    for field, query in QUERY_CASES.items():
        used = {k: v for k, v in variables.items() if f"${k}" in query}
        assert _data(await outsider.post(query, used))[field] is None, field
        checked.add(field)
    for global_id in (foreign.agent, foreign.execution, foreign.workflow, foreign.user):
        body = await outsider.post("query($id: ID!) { node(id: $id) { id } }", {"id": global_id})
        assert _data(body)["node"] is None, global_id
    checked.add("node")

    # lists: none of the first organization's objects
    mine = {foreign.agent, foreign.execution, foreign.workflow} | foreign.agent_ids
    for field in ("agents", "executions", "workflows"):
        assert not (await _ids_of_connection(outsider, field)) & mine, field
        checked.add(field)

    # figures: filtered by a foreign agent, nothing is counted (its chats neither)
    stats = _data(
        await outsider.post(
            "query($a: ID!) { dashboardStats(agentId: $a) { totalExecutions "
            "chats { messages byModel { model } } } }",
            {"a": foreign.agent},
        )
    )["dashboardStats"]
    assert stats["totalExecutions"] == 0
    assert stats["chats"] == {"messages": 0, "byModel": []}
    checked.add("dashboardStats")
    grouped = _data(
        await outsider.post(
            "query($a: ID!) { executionAggregate(groupBy: [AGENT], filter: {agentId: $a}) "
            "{ count } }",
            {"a": foreign.agent},
        )
    )["executionAggregate"]
    assert grouped == []
    everything = _data(
        await outsider.post(
            "{ executionAggregate(groupBy: [AGENT], first: 1000) { key { agentId } } }"
        )
    )["executionAggregate"]
    assert not {group["key"]["agentId"] for group in everything} & foreign.agent_ids
    checked.add("executionAggregate")
    # AI usage per agent over the longest window: only the outsider's own agents
    since = (datetime.now(UTC) - timedelta(days=90)).isoformat()
    recent = _data(
        await outsider.post(
            "query($s: DateTime) { usage(since: $s, groupBy: AGENT, bucket: WEEK) "
            "{ calls agent { id } } }",
            {"s": since},
        )
    )["usage"]
    assert recent, "the outsider's organization has no AI usage to compare"
    assert not {p["agent"]["id"] for p in recent if p["agent"]} & foreign.agent_ids
    checked.add("usage")

    # who am I, and my keys: never the first organization's
    me = _data(await outsider.post("{ me { id email } }"))["me"]
    assert me["email"] == OTHER_ADMIN
    keys = _data(await outsider.post("{ apiKeys { id } }"))["apiKeys"]
    assert {"id": foreign.api_key} not in keys
    checked |= {"me", "apiKeys"}

    # search: whatever it finds is the outsider's own
    found = _data(
        await outsider.post(
            '{ search(query: "agent", first: 100) { edges { node { object { '
            "... on Agent { id } ... on Workflow { id } ... on Execution { id } } } } } }"
        )
    )["search"]
    assert not {edge["node"]["object"].get("id") for edge in found["edges"]} & mine
    checked.add("search")

    # people: only the outsider's own organization
    people = _data(await outsider.post("{ users(first: 100) { edges { node { id email } } } }"))
    assert foreign.user not in {edge["node"]["id"] for edge in people["users"]["edges"]}
    assert all(e["node"]["email"].endswith("@globex.example") for e in people["users"]["edges"])
    checked.add("users")

    # the audit log: none of the first organization's entries, even asked for by object
    async with _foreign_audit_entry(services, foreign.agent):
        log = _data(
            await outsider.post(
                "query($o: ID!) { auditLog(first: 100, filter: {objectId: $o}) { totalCount } }",
                {"o": foreign.agent},
            )
        )
    assert log["auditLog"]["totalCount"] == 0
    checked.add("auditLog")

    # my inbox: never an approval of the first organization's runs (one that exists is
    # walked in tests/test_approvals.py::test_the_other_organization_sees_no_approval...)
    inbox = _data(
        await outsider.post(
            "{ pendingApprovals(first: 100) { edges { node { execution { id } } } } }"
        )
    )["pendingApprovals"]
    assert not {e["node"]["execution"]["id"] for e in inbox["edges"]} & mine
    checked.add("pendingApprovals")

    checked |= CONVERSATION_QUERIES  # walked in test_conversations_hide_the_other_organization
    checked |= NOTIFICATION_QUERIES  # walked in test_notifications_hide_the_other_organization
    assert checked == _root_fields("Query"), "a root query without a tenancy case"


MUTATION_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "updateAgent": (
        'mutation($a: ID!) { updateAgent(id: $a, input: {name: "x"}) { __typename } }',
        {"a": "agent"},
    ),
    "deleteAgent": ("mutation($a: ID!) { deleteAgent(id: $a) { __typename } }", {"a": "agent"}),
    "restoreAgent": ("mutation($a: ID!) { restoreAgent(id: $a) { __typename } }", {"a": "agent"}),
    "deleteFlowchart": (
        "mutation($a: ID!) { deleteFlowchart(agentId: $a) { __typename } }",
        {"a": "agent"},
    ),
    "saveFlowchart": (
        "mutation($a: ID!) { saveFlowchart(agentId: $a, input: {nodes: [], connections: []}) "
        "{ __typename } }",
        {"a": "agent"},
    ),
    "updateWorkflow": (
        'mutation($w: ID!) { updateWorkflow(id: $w, input: {name: "x"}, expectedVersion: 1) '
        "{ __typename } }",
        {"w": "workflow"},
    ),
    "archiveWorkflow": (
        "mutation($w: ID!) { archiveWorkflow(id: $w) { __typename } }",
        {"w": "workflow"},
    ),
    "restoreWorkflowVersion": (
        "mutation($w: ID!) { restoreWorkflowVersion(id: $w, version: 1, expectedVersion: 2) "
        "{ __typename } }",
        {"w": "workflow"},
    ),
    "startExecution": (
        "mutation($a: ID!) { startExecution(agentId: $a) { __typename } }",
        {"a": "agent"},
    ),
    "reportExecutionStep": (
        "mutation($e: ID!) { reportExecutionStep(executionId: $e, "
        'step: {nodeId: "n", status: STARTED}) { __typename } }',
        {"e": "execution"},
    ),
    "finishExecution": (
        "mutation($e: ID!) { finishExecution(executionId: $e, status: SUCCEEDED) { __typename } }",
        {"e": "execution"},
    ),
    "appendExecutionLog": (
        'mutation($e: ID!) { appendExecutionLog(executionId: $e, message: "x") { __typename } }',
        {"e": "execution"},
    ),
    "cancelExecution": (
        "mutation($e: ID!) { cancelExecution(executionId: $e) { __typename } }",
        {"e": "execution"},
    ),
    "requestApproval": (
        'mutation($e: ID!, $u: ID!) { requestApproval(executionId: $e, nodeId: "n", '
        "approvers: [$u]) { __typename } }",
        {"e": "execution", "u": "user"},
    ),
    "pauseExecution": (
        "mutation($e: ID!) { pauseExecution(executionId: $e) { __typename } }",
        {"e": "execution"},
    ),
    "resumeExecution": (
        "mutation($e: ID!) { resumeExecution(executionId: $e) { __typename } }",
        {"e": "execution"},
    ),
    "revokeApiKey": (
        "mutation($k: ID!) { revokeApiKey(id: $k) { __typename } }",
        {"k": "api_key"},
    ),
    "updateUserRole": (
        "mutation($u: ID!) { updateUserRole(userId: $u, role: VIEWER) { __typename } }",
        {"u": "user"},
    ),
    "deactivateUser": (
        "mutation($u: ID!) { deactivateUser(userId: $u) { __typename } }",
        {"u": "user"},
    ),
    "reactivateUser": (
        "mutation($u: ID!) { reactivateUser(userId: $u) { __typename } }",
        {"u": "user"},
    ),
}
# Mutations that take no id of an existing object: nothing of another organization to name.
# (createWorkflow names users as owners: a foreign user is a field issue, tested below.)
NO_FOREIGN_IDS = {"login", "refreshToken", "logout", "createApiKey", "createAgent"}
# People: these act on the caller and their own organization (an invite's token names its
# organization; `acceptInvite` of a token is tested in tests/test_people_invites.py).
NO_FOREIGN_IDS |= {
    "inviteUser", "acceptInvite", "updateProfile", "changePassword", "updateOrganization",
}  # fmt: skip


async def test_every_mutation_on_the_other_organizations_ids_is_not_found(
    outsider: AsClient, foreign: Foreign
) -> None:
    for field, (query, names) in MUTATION_CASES.items():
        variables = {var: getattr(foreign, attribute) for var, attribute in names.items()}
        result = _data(await outsider.post(query, variables))[field]
        # Not found, or (for a step) refused as a whole: never the object, never a change.
        assert result["__typename"] in {"NotFound", "ValidationError"}, (field, result)

    # createWorkflow naming a foreign user as owner: that user is not found
    created = _data(
        await outsider.post(
            'mutation($u: ID!) { createWorkflow(input: {name: "tenancy", '
            "permissions: {ownerIds: [$u]}}) { __typename "
            "... on ValidationError { issues { path code } } } }",
            {"u": foreign.user},
        )
    )["createWorkflow"]
    assert created["__typename"] == "ValidationError"
    assert {"path": "permissions.ownerIds[0]", "code": "NOT_FOUND"} in created["issues"]

    walked = set(MUTATION_CASES) | NO_FOREIGN_IDS | {"createWorkflow"} | CONVERSATION_MUTATIONS
    # decideApproval on a real approval of the first organization (the seed has none):
    # tests/test_approvals.py::test_the_other_organization_sees_no_approval_and_decides_none
    walked |= {"decideApproval"}
    walked |= NOTIFICATION_MUTATIONS
    assert walked == _root_fields("Mutation"), "a mutation without a tenancy case"


async def test_every_subscription_hides_the_other_organization(
    live_server: str, services: Services, foreign: Foreign, app: FastAPI, client: httpx.AsyncClient
) -> None:
    secret, _ = await api_key_for(services, OTHER_ADMIN, "tenancy-ws")
    url = f"ws://{live_server}/graphql"
    async with connect(url, {"Authorization": f"Bearer {secret}"}) as ws:
        # a foreign execution's progress: not found
        progress = await ws.subscribe(
            "subscription($e: ID!) { executionProgress(executionId: $e) { __typename } }",
            {"e": foreign.execution},
        )
        try:
            errors = [e for payload in [p async for p in ws.results(progress)] for e in
                      payload.get("errors", [])]  # fmt: skip
        except SubscriptionError as refused:
            errors = refused.errors
        assert [e.get("extensions", {}).get("code") for e in errors] == ["NOT_FOUND"], errors

        # an engine's commands of a foreign agent: not found
        commands = await ws.subscribe(
            "subscription($a: ID!) { executionCommands(agentId: $a) { kind } }",
            {"a": foreign.agent},
        )
        try:
            errors = [e for payload in [p async for p in ws.results(commands)] for e in
                      payload.get("errors", [])]  # fmt: skip
        except SubscriptionError as refused:
            errors = refused.errors
        assert [e.get("extensions", {}).get("code") for e in errors] == ["NOT_FOUND"], errors
        # the live figures of a foreign agent: only the outsider's own executions (none)
        figures = await ws.subscribe(
            "subscription($a: ID!) { dashboardStatsChanged(filter: {agentId: $a}) "
            "{ totalExecutions totalCost } }",
            {"a": foreign.agent},
        )
        first = await _first_result(ws, figures, seconds=15)
        assert first is not None
        assert first["data"] == {"dashboardStatsChanged": {"totalExecutions": 0, "totalCost": 0}}
        await ws.send({"id": figures, "type": "complete"})

        # updates: an execution started in the first organization never reaches the outsider
        await ws.subscribe("subscription { executionUpdates { id } }")
        await ws.subscribe("subscription { executionUpdates(progress: true) { id } }")
        await asyncio.sleep(0.3)  # registered (no acknowledgement in the protocol)
        # (on an agent of its own, removed with its executions at the end: the seed stays as is)
        async with Scratch.open(services, app, client) as scratch:
            started = await client.post(
                "/graphql",
                json={
                    "query": "mutation($a: ID!) { startExecution(agentId: $a) { __typename } }",
                    "variables": {"a": await scratch.create_agent("tenancy")},
                },
            )
            assert started.json()["data"]["startExecution"]["__typename"] == (
                "StartExecutionPayload"
            )
            leaked = await _any_message(ws, seconds=1.5)
        assert leaked is None, f"leaked to another organization: {leaked}"
    walked = {"executionProgress", "executionUpdates", "executionCommands", "dashboardStatsChanged"}
    assert walked | CONVERSATION_SUBSCRIPTIONS | NOTIFICATION_SUBSCRIPTIONS == (
        _root_fields("Subscription")
    )


async def _any_message(ws: GraphQLWebSocket, seconds: float) -> dict[str, Any] | None:
    """The first message of any operation within `seconds` (keep-alives aside), or None."""
    try:
        return await ws.receive(seconds)
    except TimeoutError:
        return None


async def _first_result(
    ws: GraphQLWebSocket, operation_id: str, seconds: float
) -> dict[str, Any] | None:
    try:
        async for item in ws.results(operation_id, timeout=seconds):
            return item
    except TimeoutError:
        return None
    return None


@asynccontextmanager
async def _foreign_audit_entry(services: Services, agent: str) -> AsyncIterator[None]:
    """An audit entry of the first organization about `agent`, there while the block runs."""
    _, agent_id = from_global_id(agent)
    async with services.postgres.session() as session, session.begin():
        organization = await session.scalar(
            select(Agent.organization_id).where(Agent.id == agent_id)
        )
        entry = AuditLogEntry(organization_id=organization, actor_type="system",
                              action="tenancy.probe", object_type="Agent",
                              object_id=str(agent_id), summary={})  # fmt: skip
        session.add(entry)
    try:
        yield
    finally:
        async with services.postgres.session() as session, session.begin():
            await session.execute(delete(AuditLogEntry).where(AuditLogEntry.id == entry.id))


def _root_fields(type_name: str) -> set[str]:
    graphql_type = schema._schema.get_type(type_name)
    assert graphql_type is not None
    return set(graphql_type.fields)  # type: ignore[attr-defined]


# Conversations: the first organization's project, conversation and messages are made by
# the test (the seed has none), as its admin; the outsider then tries every root field.
CONVERSATION_QUERIES = {"projects", "project", "conversations", "conversation", "toolUsage"}
CONVERSATION_MUTATION_CASES: dict[str, tuple[str, str]] = {
    "updateProject": ('updateProject(id: $p, input: {name: "x"})', "p"),
    "archiveProject": ("archiveProject(id: $p)", "p"),
    "deleteProject": ("deleteProject(id: $p)", "p"),
    "attachAgentToProject": ("attachAgentToProject(projectId: $p, agentId: $a)", "pa"),
    "detachAgentFromProject": ("detachAgentFromProject(projectId: $p, agentId: $a)", "pa"),
    "startConversation": ('startConversation(agentId: $a, message: "hi")', "a"),
    "postMessage": ('postMessage(conversationId: $c, content: "hi")', "c"),
    "renameConversation": ('renameConversation(id: $c, title: "x")', "c"),
    "archiveConversation": ("archiveConversation(id: $c)", "c"),
    "deleteConversation": ("deleteConversation(id: $c)", "c"),
    "restoreConversation": ("restoreConversation(id: $c)", "c"),
    "branchConversation": ("branchConversation(conversationId: $c, fromMessageId: $m)", "cm"),
    "beginReply": ("beginReply(conversationId: $c, replyTo: $m)", "cm"),
    "appendReplyChunk": ('appendReplyChunk(messageId: $r, seq: 1, text: "x")', "r"),
    "recordToolCall": (
        'recordToolCall(messageId: $r, input: {callId: "c", toolName: "t", server: "s", '
        "status: RUNNING})",
        "r",
    ),
    "finishReply": ("finishReply(messageId: $r)", "r"),
    "stopReply": ("stopReply(messageId: $r)", "r"),
}
CONVERSATION_MUTATIONS = {*CONVERSATION_MUTATION_CASES, "createProject"}
CONVERSATION_SUBSCRIPTIONS = {"conversationEvents", "agentConversationRequests"}
_VARIABLES = {"p": "project", "a": "agent", "c": "conversation", "m": "message", "r": "reply"}


async def test_conversations_hide_the_other_organization(
    outsider: AsClient,
    foreign: Foreign,
    client: httpx.AsyncClient,
    services: Services,
    app: FastAPI,
    live_server: str,
) -> None:
    from tests.conversations import TOOL, begin, chunk, create_project, open_chats, run, start_chat

    async with open_chats(services, app, client) as chats:
        agent = await chats.create_agent("tenancy")
        project = await create_project(client, chats.name("project"))
        conversation, message = await start_chat(client, agent, project=project)
        reply = await begin(client, conversation, message)
        ids = {"project": project, "agent": agent, "conversation": conversation,
               "message": message, "reply": reply}  # fmt: skip

        # queries: by id null, lists without the first organization's objects
        for field, argument in (("project", project), ("conversation", conversation)):
            body = await outsider.post(f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}",
                                       {"id": argument})  # fmt: skip
            assert _data(body)[field] is None, field
        for field in ("projects", "conversations"):
            assert not (await _ids_of_connection(outsider, field)) & {project, conversation}

        # mutations: not found (or the id is a field issue), and nothing changes
        for field, (call, names) in CONVERSATION_MUTATION_CASES.items():
            variables = {name: ids[_VARIABLES[name]] for name in names}
            declared = ", ".join(f"${name}: ID!" for name in names)
            body = await outsider.post(
                f"mutation({declared}) {{ {call} {{ __typename }} }}", variables
            )
            assert _data(body)[field]["__typename"] in {"NotFound", "ValidationError"}, field
        await chunk(client, reply, 1, "still mine")  # the reply was neither stopped nor finished
        tool = {"callId": "t", "toolName": chats.name("tool"), "server": "s", "status": "RUNNING"}
        await run(client, TOOL, id=reply, input=tool)
        usage = _data(await outsider.post("{ toolUsage(groupBy: TOOL) { key } }"))["toolUsage"]
        assert chats.name("tool") not in {row["key"] for row in usage}

        # subscriptions: a foreign conversation is not found; the engine stream stays silent
        secret, _ = await api_key_for(services, OTHER_ADMIN, "tenancy-chat")
        async with connect(f"ws://{live_server}/graphql",
                           {"Authorization": f"Bearer {secret}"}) as ws:  # fmt: skip
            events = await ws.subscribe(
                "subscription($c: ID!) { conversationEvents(conversationId: $c) { __typename } }",
                {"c": conversation},
            )
            try:
                errors = [e for p in [p async for p in ws.results(events)]
                          for e in p.get("errors", [])]  # fmt: skip
            except SubscriptionError as refused:
                errors = refused.errors
            assert [e.get("extensions", {}).get("code") for e in errors] == ["NOT_FOUND"]
            requests = await ws.subscribe("subscription { agentConversationRequests { type } }")
            await asyncio.sleep(0.3)
            await start_chat(client, agent, "a secret")
            assert await _first_result(ws, requests, seconds=1.5) is None


# Notifications and webhooks: the first organization's workflow (with a webhook), a failed
# run of it (a notification to its creator, a queued delivery) are made by the test; the
# outsider then tries every root field of the domain.
NOTIFICATION_QUERIES = {"notifications", "webhookDeliveries"}
NOTIFICATION_MUTATIONS = {"markNotificationsRead", "setWorkflowWebhook", "removeWorkflowWebhook"}
NOTIFICATION_SUBSCRIPTIONS = {"notificationAdded"}


async def test_notifications_hide_the_other_organization(
    outsider: AsClient,
    client: httpx.AsyncClient,
    services: Services,
    app: FastAPI,
    live_server: str,
) -> None:
    from tests.notifications import NOTIFICATIONS, SET_WEBHOOK, team_of

    async with team_of(services, app, client) as team:
        workflow = await team.workflow("tenancy", owners=("user",), channels=("webhook",))
        hooked = await team.members["admin"].post(
            SET_WEBHOOK, {"w": workflow, "url": "http://127.0.0.1:9/x", "secret": "x" * 20}
        )
        assert hooked["data"]["setWorkflowWebhook"]["__typename"] == "SetWorkflowWebhookPayload"
        secret, _ = await api_key_for(services, OTHER_ADMIN, "tenancy-notifications")
        async with connect(f"ws://{live_server}/graphql", {"Authorization": f"Bearer {secret}"}
                           ) as ws:  # fmt: skip
            added = await ws.subscribe("subscription { notificationAdded { id } }")
            await asyncio.sleep(0.3)  # registered (no acknowledgement in the protocol)
            await team.run(workflow, "FAILED")
            leaked = await _first_result(ws, added, seconds=1.5)
        assert leaked is None, f"leaked to another organization: {leaked}"
        (theirs,) = await team.notifications("user")

        # queries: none of the first organization's notifications; its log is not found
        listed = _data(await outsider.post(NOTIFICATIONS, {"unread": False, "first": 100}))
        ids = {edge["node"]["id"] for edge in listed["notifications"]["edges"]}
        assert theirs["id"] not in ids
        deliveries = await outsider.post(
            "query($w: ID!) { webhookDeliveries(workflowId: $w) { totalCount } }", {"w": workflow}
        )
        assert error_codes(deliveries) == ["NOT_FOUND"]

        # mutations: nothing of theirs changes
        marked = _data(
            await outsider.post(
                "mutation($i: [ID!]) { markNotificationsRead(ids: $i) { __typename "
                "... on MarkNotificationsReadPayload { marked } } }",
                {"i": [theirs["id"]]},
            )
        )["markNotificationsRead"]
        assert marked == {"__typename": "MarkNotificationsReadPayload", "marked": 0}
        everything = await outsider.post(
            "mutation { markNotificationsRead(all: true) { __typename } }"
        )
        assert "errors" not in everything
        assert [n["read"] for n in await team.notifications("user")] == [False]
        for call in (
            'setWorkflowWebhook(workflowId: $w, url: "https://example.com/x")',
            "removeWorkflowWebhook(workflowId: $w)",
        ):
            body = await outsider.post(f"mutation($w: ID!) {{ {call} {{ __typename }} }}",
                                       {"w": workflow})  # fmt: skip
            assert next(iter(_data(body).values()))["__typename"] == "NotFound", call
        kept = await team.members["admin"].post(
            "query($w: ID!) { workflow(id: $w) { webhook { url } } }", {"w": workflow}
        )
        assert _data(kept)["workflow"]["webhook"] == {"url": "http://127.0.0.1:9/x"}
