"""The demo data: generated deterministically, written to both stores consistently, and
never written twice over unless asked to reset.

The store tests read what the session's `seeded` fixture wrote (small, seed 42). The one test
that reseeds puts back exactly that data set, so the other modules see no difference."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text

from flowgate.seed import DEMO_PASSWORD, SeedError, SeedSummary, generate, seed, seed_if_empty
from flowgate.seed.traces import event_count, event_docs
from flowgate.services import Services
from models.documents import (
    ALL_DOCUMENTS,
    Connection,
    ExecutionEvent,
    ExecutionStep,
    ExecutionTrace,
    Flowchart,
    FlowNode,
    Workflow,
    WorkflowVersion,
)
from models.enums import ExecutionEventType, ExecutionStatus, NodeType, StepStatus, UserRole
from models.sql import Agent, Execution, Organization, User
from resolvers.ids import to_global_id
from tests.auth import ADMIN, restore_key

ANCHOR = datetime(2026, 11, 20, tzinfo=UTC)
FAKE_HASH = "argon2-is-too-slow-for-unit-tests"

FINISH = """
mutation Finish($id: ID!, $status: ExecutionStatus!) {
  finishExecution(executionId: $id, status: $status) { __typename }
}
"""

AGENT_COUNTERS_SQL = text(
    """
    SELECT a.id, a.execution_count, a.last_execution_at,
           count(e.id) AS executions, max(e.started_at) AS last_started
    FROM agents a LEFT JOIN executions e ON e.agent_id = a.id
    GROUP BY a.id
    """
)


def everything(size: str = "small", seed_number: int = 42, anchor: datetime = ANCHOR) -> Any:
    data = generate(size=size, seed=seed_number, anchor=anchor, password_hash=FAKE_HASH)
    return (
        data.sql_tables(),
        list(data.flowchart_docs()),
        list(data.workflow_docs()),
        list(data.workflow_version_docs()),
        list(data.trace_docs()),
        list(data.event_docs()),
    )


def assert_flowchart_invariants(nodes: list[FlowNode], connections: list[Connection]) -> None:
    ids = [node.id for node in nodes]
    assert len(ids) == len(set(ids)), "node ids are unique"
    assert 5 <= len(nodes) <= 40
    by_id = {node.id: node for node in nodes}
    outgoing: dict[str, list[Connection]] = {}
    incoming: Counter[str] = Counter()
    for connection in connections:
        assert connection.source in by_id
        assert connection.target in by_id
        outgoing.setdefault(connection.source, []).append(connection)
        incoming[connection.target] += 1
    for node in nodes:
        if node.type is NodeType.DECISION:
            branches = outgoing.get(node.id, [])
            assert len(branches) >= 2, f"decision {node.id} branches"
            assert all(branch.condition for branch in branches)
    # A DAG from one start node: Kahn's algorithm visits every node from the only root.
    roots = [node.id for node in nodes if incoming[node.id] == 0]
    assert roots == [nodes[0].id]
    queue, visited = deque(roots), 0
    while queue:
        current = queue.popleft()
        visited += 1
        for connection in outgoing.get(current, []):
            incoming[connection.target] -= 1
            if incoming[connection.target] == 0:
                queue.append(connection.target)
    assert visited == len(nodes), "acyclic and reachable from the start"


# --- generation, no stores ----------------------------------------------------------------


def test_same_seed_generates_identical_data() -> None:
    # when
    first, second = everything(), everything()

    # then
    assert first == second


def test_ids_and_names_do_not_depend_on_the_day() -> None:
    # given
    today = generate(size="small", seed=42, anchor=ANCHOR)
    tomorrow = generate(size="small", seed=42, anchor=datetime(2026, 11, 21, tzinfo=UTC))

    # then
    assert [a.id for a in today.agents] == [a.id for a in tomorrow.agents]
    assert [a.name for a in today.agents] == [a.name for a in tomorrow.agents]
    assert [e.id for e in today.executions] == [e.id for e in tomorrow.executions]
    assert today.event_count() == tomorrow.event_count()


def test_another_seed_generates_other_data() -> None:
    # when
    first, other = generate(seed=42, anchor=ANCHOR), generate(seed=7, anchor=ANCHOR)

    # then
    assert {a.id for a in first.agents}.isdisjoint(a.id for a in other.agents)


def test_generated_flowcharts_keep_their_invariants_for_many_seeds() -> None:
    for seed_number in range(5):
        data = generate(seed=seed_number, anchor=ANCHOR)
        for doc in data.flowchart_docs():
            nodes = [FlowNode.model_validate(node) for node in doc["nodes"]]
            assert {node.type for node in nodes} == set(NodeType)
            assert_flowchart_invariants(
                nodes, [Connection.model_validate(c) for c in doc["connections"]]
            )


def test_event_count_matches_the_events_generated() -> None:
    data = generate(anchor=ANCHOR)
    for execution in data.executions:
        assert event_count(execution) == len(list(event_docs(execution)))


def test_nothing_happens_after_the_anchor_or_before_30_days() -> None:
    data = generate(anchor=ANCHOR)
    for execution in data.executions:
        row = execution.row()
        assert (ANCHOR - row["started_at"]).days < 30
        assert row["updated_at"] <= ANCHOR
        for step in execution.steps:
            assert row["started_at"] <= step.started_at <= ANCHOR


def test_generated_traces_fit_the_step_model() -> None:
    data = generate(anchor=ANCHOR)
    for trace in itertools.islice(data.trace_docs(), 300):
        for step in trace["steps"]:
            ExecutionStep.model_validate(step)


def test_large_has_ten_times_the_agents_workflows_and_executions() -> None:
    # given
    small = generate(size="small", anchor=ANCHOR)

    # when
    large = generate(size="large", anchor=ANCHOR)

    # then
    assert len(large.agents) == 10 * len(small.agents) == 600
    assert len(large.workflows) == 10 * len(small.workflows)
    assert len(large.executions) == 10 * len(small.executions) == 30_000


def test_workflows_and_their_versions_are_written_with_every_field_of_their_document() -> None:
    # given: what Beanie stores of each document (its revision id is off for both)
    data = generate(size="small", seed=42, anchor=ANCHOR, password_hash=FAKE_HASH)
    generated = ((Workflow, data.workflow_docs()), (WorkflowVersion, data.workflow_version_docs()))

    for document, docs in generated:
        stored = {info.alias or name for name, info in document.model_fields.items()}
        stored.discard("revision_id")

        # then: a field added to a document (to the content base, or beside it) is seeded too
        keys = {frozenset(doc) for doc in docs}
        assert keys == {frozenset(stored)}, document.__name__


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="huge"):
        generate(size="huge")


# --- what the seeded stores hold ----------------------------------------------------------


async def count_rows(services: Services, model: type[Any]) -> int:
    async with services.postgres.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_both_stores_hold_what_the_summary_counts(
    services: Services, seeded: SeedSummary
) -> None:
    # then
    assert (seeded.organizations, seeded.agents, seeded.workflows) == (2, 60, 20)
    assert seeded.executions == 3000
    assert await count_rows(services, Organization) == seeded.organizations
    assert await count_rows(services, User) == seeded.users
    assert await count_rows(services, Agent) == seeded.agents
    assert await count_rows(services, Execution) == seeded.executions
    assert await Flowchart.count() == seeded.flowcharts == seeded.agents
    assert await Workflow.count() == seeded.workflows
    assert await WorkflowVersion.count() == seeded.workflow_versions > 0
    assert await ExecutionTrace.count() == seeded.traces == seeded.executions
    assert await ExecutionEvent.count() == seeded.events
    assert "3,000 executions" in seeded.describe()


async def test_every_role_has_a_demo_login_in_each_organization(
    services: Services, seeded: SeedSummary
) -> None:
    # when
    async with services.postgres.session() as session:
        users = (await session.scalars(select(User))).all()

    # then
    emails = {user.email: user for user in users}
    for slug in ("acme", "globex"):
        for role in UserRole:
            assert emails[f"{role.value}@{slug}.example"].role is role
    assert PasswordHasher().verify(emails["admin@acme.example"].password_hash, DEMO_PASSWORD)


async def test_stored_flowcharts_keep_their_invariants(
    services: Services, seeded: SeedSummary
) -> None:
    # given
    async with services.postgres.session() as session:
        agent_orgs = dict((await session.execute(select(Agent.id, Agent.organization_id))).all())

    # when
    flowcharts = await Flowchart.find_all().to_list()

    # then
    assert {node.type for chart in flowcharts for node in chart.nodes} == set(NodeType)
    calls = 0
    for chart in flowcharts:
        assert_flowchart_invariants(chart.nodes, chart.connections)
        assert agent_orgs[chart.agent_id] == chart.organization_id
        for node in chart.nodes:
            if "agentId" in node.data:
                calls += 1
                called = uuid.UUID(node.data["agentId"])
                assert node.type is NodeType.ACTION
                assert called != chart.agent_id
                assert agent_orgs[called] == chart.organization_id
    assert calls > 0


async def test_workflows_reference_agents_and_users_of_their_organization(
    services: Services, seeded: SeedSummary
) -> None:
    # given
    async with services.postgres.session() as session:
        agent_orgs = dict((await session.execute(select(Agent.id, Agent.organization_id))).all())
        user_orgs = dict((await session.execute(select(User.id, User.organization_id))).all())

    # when
    workflows = await Workflow.find_all().to_list()

    # then
    assert {w.status.value for w in workflows} == {"draft", "active", "archived"}
    assert any(w.permissions.is_public for w in workflows)
    for workflow in workflows:
        assert workflow.tags
        called = [uuid.UUID(n.data["agentId"]) for n in workflow.nodes if "agentId" in n.data]
        assert called
        assert {agent_orgs[agent_id] for agent_id in called} == {workflow.organization_id}
        people = [*workflow.permissions.owners, *workflow.permissions.editors]
        assert {user_orgs[user_id] for user_id in people} == {workflow.organization_id}


async def test_each_workflow_keeps_its_earlier_versions(seeded: SeedSummary) -> None:
    # when
    workflows = await Workflow.find_all().to_list()
    versions = await WorkflowVersion.find_all().to_list()

    # then
    kept: dict[uuid.UUID, list[int]] = {}
    for version in versions:
        kept.setdefault(version.workflow_id, []).append(version.version)
    for workflow in workflows:
        assert sorted(kept.get(workflow.id, [])) == list(range(1, workflow.version))


async def test_event_logs_are_gap_free_from_one(services: Services, seeded: SeedSummary) -> None:
    # given: a sample of executions and the sequence number of their latest event
    async with services.postgres.session() as session:
        rows = await session.execute(select(Execution.id, Execution.last_event_seq).limit(300))
        last_seq = dict(rows.all())
    sample = list(last_seq)

    # when
    cursor = await ExecutionEvent.get_pymongo_collection().aggregate(
        [
            {"$match": {"execution_id": {"$in": sample}}},
            {
                "$group": {
                    "_id": "$execution_id",
                    "events": {"$sum": 1},
                    "first": {"$min": "$seq"},
                    "last": {"$max": "$seq"},
                    "distinct": {"$addToSet": "$seq"},
                }
            },
        ]
    )
    logs = await cursor.to_list()

    # then
    assert len(logs) == len(sample)
    for log in logs:
        assert log["first"] == 1
        assert log["last"] == log["events"] == len(log["distinct"]) == last_seq[log["_id"]]


async def test_a_failed_execution_tells_the_same_story_in_both_stores(
    services: Services, seeded: SeedSummary
) -> None:
    # given
    async with services.postgres.session() as session:
        failed = (
            await session.scalars(
                select(Execution).where(Execution.status == ExecutionStatus.FAILED).limit(1)
            )
        ).one()

    # when
    trace = await ExecutionTrace.find_one(ExecutionTrace.execution_id == failed.id)
    events = (
        await ExecutionEvent.find(ExecutionEvent.execution_id == failed.id).sort("seq").to_list()
    )

    # then
    assert trace is not None
    assert failed.error
    assert trace.steps[-1].status is StepStatus.FAILED
    assert trace.steps[-1].error == failed.error
    assert failed.nodes_done == sum(s.status is not StepStatus.FAILED for s in trace.steps)
    assert failed.nodes_done < failed.nodes_total
    assert (events[0].type, events[0].status) == (ExecutionEventType.STATUS_CHANGED, "running")
    assert (events[-1].type, events[-1].status) == (ExecutionEventType.STATUS_CHANGED, "failed")
    assert events[-1].payload["error"] == failed.error
    # as the execution lifecycle numbers and applies events
    assert trace.id == failed.id
    assert trace.applied_seq == failed.last_event_seq == events[-1].seq == len(events)
    assert trace.agent_id == failed.agent_id
    started = [e.node_id for e in events if e.type is ExecutionEventType.STEP_STARTED]
    assert started == [step.node_id for step in trace.steps]


async def test_executions_match_their_traces(services: Services, seeded: SeedSummary) -> None:
    # given
    async with services.postgres.session() as session:
        executions = (await session.scalars(select(Execution).limit(500))).all()
    traces = {
        trace.execution_id: trace
        for trace in await ExecutionTrace.find(
            {"execution_id": {"$in": [e.id for e in executions]}}
        ).to_list()
    }

    # then
    for execution in executions:
        steps = traces[execution.id].steps
        done = [s for s in steps if s.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)]
        assert execution.nodes_done == len(done)
        assert execution.tokens == sum(s.tokens for s in steps)
        # every call's tokens are split, and the parts add up on the row and on each step
        assert execution.prompt_tokens + execution.completion_tokens == execution.tokens
        assert execution.prompt_tokens == sum(s.prompt_tokens or 0 for s in steps)
        assert all((s.prompt_tokens or 0) + (s.completion_tokens or 0) == s.tokens for s in steps)
        assert execution.ai_calls == sum(
            s.node_type is NodeType.AI and s.status is not StepStatus.SKIPPED for s in steps
        )
        if execution.status is ExecutionStatus.SUCCEEDED:
            assert execution.nodes_done == execution.nodes_total == len(steps)
            assert execution.duration_ms
        if execution.ai_calls:
            assert execution.ai_provider in {"openai", "anthropic", "google", "mistral"}


async def test_status_mix_and_workflow_share_look_like_production(
    services: Services, seeded: SeedSummary
) -> None:
    # when
    async with services.postgres.session() as session:
        rows = (await session.execute(select(Execution.status, Execution.workflow_id))).all()

    # then
    statuses = Counter(status for status, _ in rows)
    share = {status: count / len(rows) for status, count in statuses.items()}
    assert 0.75 < share[ExecutionStatus.SUCCEEDED] < 0.85
    assert 0.09 < share[ExecutionStatus.FAILED] < 0.15
    assert statuses[ExecutionStatus.CANCELLED] > 0
    live = (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED, ExecutionStatus.PENDING)
    assert all(statuses[status] > 0 for status in live)
    assert sum(statuses[status] for status in live) < 20
    assert 0.25 < sum(1 for _, workflow_id in rows if workflow_id) / len(rows) < 0.35


async def test_agent_counters_match_their_executions(
    services: Services, seeded: SeedSummary
) -> None:
    # when
    async with services.postgres.session() as session:
        rows = (await session.execute(AGENT_COUNTERS_SQL)).all()

    # then
    assert len(rows) == seeded.agents
    for row in rows:
        assert row.execution_count == row.executions
        assert row.last_execution_at == row.last_started


# --- refusing to seed twice, and resetting ------------------------------------------------


async def test_demo_start_does_not_seed_again(services: Services, seeded: SeedSummary) -> None:
    assert await seed_if_empty(services) is None


async def finish_a_seeded_running_execution(services: Services, client: httpx.AsyncClient) -> None:
    """The engine carries on where the seed left a live execution: the new event follows
    the seeded ones and the trace applies it. (This writes to the seeded data, so only the
    reset test, which puts the data back, calls it.)"""
    # a running execution of the organization the app acts for (the first by name)
    async with services.postgres.session() as session:
        running = (
            await session.scalars(
                select(Execution)
                .join(Organization, Organization.id == Execution.organization_id)
                .where(Organization.slug == "acme", Execution.status == ExecutionStatus.RUNNING)
                .limit(1)
            )
        ).one()
    variables = {"id": to_global_id("Execution", running.id), "status": "SUCCEEDED"}
    response = await client.post("/graphql", json={"query": FINISH, "variables": variables})
    assert response.json()["data"]["finishExecution"]["__typename"] == "FinishExecutionPayload"
    events = await ExecutionEvent.find(ExecutionEvent.execution_id == running.id).to_list()
    assert sorted(e.seq for e in events) == list(range(1, running.last_event_seq + 2))
    trace = await ExecutionTrace.get(running.id)
    assert trace is not None
    assert trace.applied_seq == running.last_event_seq + 1
    return running.id


async def test_seeding_over_data_fails_and_reset_puts_the_same_data_back(
    services: Services, client: httpx.AsyncClient, seeded: SeedSummary, admin_key: str
) -> None:
    # given: the seeded data, changed by the engine, plus a stray row and document
    finished_id = await finish_a_seeded_running_execution(services, client)
    async with services.postgres.session() as session, session.begin():
        agent_ids = set((await session.scalars(select(Agent.id))).all())
        session.add(Organization(name="Stray", slug=f"stray-{uuid.uuid4().hex[:8]}"))
    stray_id = uuid.uuid4()
    await Workflow.get_pymongo_collection().insert_one(
        {"_id": stray_id, "organization_id": uuid.uuid4(), "name": "Stray"}
    )

    # when / then: no duplicates without --reset
    with pytest.raises(SeedError, match="--reset"):
        await seed(services, size="small", seed=42)
    assert await count_rows(services, Agent) == seeded.agents

    # when: reset, with the session's seed so that other tests keep their data (and the
    # session's admin key, which the reset deletes with its user)
    summary = await seed(services, size="small", seed=42, reset=True)
    await restore_key(services, ADMIN, admin_key)

    # then
    assert await count_rows(services, Organization) == summary.organizations == 2
    assert await Workflow.get_pymongo_collection().find_one({"_id": stray_id}) is None
    async with services.postgres.session() as session:
        assert set((await session.scalars(select(Agent.id))).all()) == agent_ids
        restored = await session.get(Execution, finished_id)
    assert restored is not None
    assert restored.status is ExecutionStatus.RUNNING
    expected = {
        Flowchart: summary.flowcharts,
        Workflow: summary.workflows,
        WorkflowVersion: summary.workflow_versions,
        ExecutionTrace: summary.traces,
        ExecutionEvent: summary.events,
    }
    for document in ALL_DOCUMENTS:
        assert await document.count() == expected.get(document, 0), document.__name__
    assert (summary.executions, summary.events) == (seeded.executions, seeded.events)
    for document in (ExecutionEvent, ExecutionTrace):
        names = set(await document.get_pymongo_collection().index_information())
        assert len(names) == 1 + len(document.Settings.indexes)
