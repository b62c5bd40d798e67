"""The demo's simulated engine, run against the app through real HTTP requests (ASGI), then
checked by reading the stores directly. The executions it creates belong to seeded agents,
so each test removes exactly those (rows, audit entries, idempotency keys, traces, events)
and puts the agents' counters back."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flowgate.services import Services
from flowgate.simulator import Run, Simulator, SimulatorConfig
from flowgate.simulator.outcomes import SOURCE
from models.documents import ExecutionEvent, ExecutionTrace, Flowchart, Workflow
from models.enums import ExecutionEventType, ExecutionStatus, NodeType, StepStatus
from models.sql import Agent, Approval, AuditLogEntry, Execution
from models.sql.base import utcnow
from models.sql.idempotency import IdempotencyKey
from resolvers.ids import parse_id, to_global_id
from tests.auth import bearer

AgentCounters = tuple[int, datetime | None, datetime]
CreatedIds = Callable[[], Awaitable[set[uuid.UUID]]]


def fast(**fields: Any) -> SimulatorConfig:
    """A configuration that starts executions back to back and sleeps ~1 ms per step."""
    return SimulatorConfig(interval=0.01, time_scale=0.001, **fields)


async def _simulated_ids(services: Services) -> set[uuid.UUID]:
    async with services.postgres.session() as session:
        rows = await session.scalars(
            select(Execution.id).where(Execution.input["source"].astext == SOURCE)
        )
        return set(rows.all())


@pytest.fixture
async def created(services: Services, seeded: object) -> AsyncIterator[CreatedIds]:
    """The ids of the simulated executions made during the test; all removed afterwards."""
    async with services.postgres.session() as session:
        agents = await _agent_counters(session)
    before = await _simulated_ids(services)

    async def ids() -> set[uuid.UUID]:
        return await _simulated_ids(services) - before

    try:
        yield ids
    finally:
        await _remove(services, await ids(), agents)


async def _agent_counters(session: AsyncSession) -> dict[uuid.UUID, AgentCounters]:
    """What starting an execution changes on its agent."""
    query = select(Agent.id, Agent.execution_count, Agent.last_execution_at, Agent.updated_at)
    return {agent_id: tuple(rest) for agent_id, *rest in (await session.execute(query)).all()}  # type: ignore[misc]


async def _remove(
    services: Services,
    execution_ids: set[uuid.UUID],
    agents: dict[uuid.UUID, AgentCounters],
) -> None:
    as_text = [str(i) for i in execution_ids]
    async with services.postgres.session() as session, session.begin():
        await session.execute(delete(AuditLogEntry).where(AuditLogEntry.object_id.in_(as_text)))
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.response["execution_id"].astext.in_(as_text)
            )
        )
        await session.execute(delete(Execution).where(Execution.id.in_(execution_ids)))
        now = await _agent_counters(session)
        for agent_id, (count, last, updated) in agents.items():
            if now.get(agent_id, (count, last, updated)) != (count, last, updated):
                await session.execute(
                    update(Agent)
                    .where(Agent.id == agent_id)
                    .values(execution_count=count, last_execution_at=last, updated_at=updated)
                )
    await ExecutionTrace.find({"execution_id": {"$in": list(execution_ids)}}).delete()
    await ExecutionEvent.find({"execution_id": {"$in": list(execution_ids)}}).delete()


async def _check_run(services: Services, run: Run) -> Execution:
    """Everything one simulated execution left in the stores is consistent with its graph."""
    execution_id = parse_id(run.execution_id, "Execution")
    async with services.postgres.session() as session:
        row = await session.get(Execution, execution_id)
        assert row is not None
        agent = await session.get(Agent, row.agent_id)
    assert agent is not None
    # a terminal row, as the simulator saw it end
    assert row.status.is_terminal, row.status
    assert run.status is not None
    assert run.status.lower() == row.status.value
    assert (row.workflow_id is not None) == (run.target.kind == "workflow")
    # the event log: gap-free from 1, from pending to the terminal status
    events = await ExecutionEvent.find({"execution_id": execution_id}).sort("seq").to_list()
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert (events[0].type, events[0].status) == (ExecutionEventType.STATUS_CHANGED, "pending")
    assert (events[-1].type, events[-1].status) == (
        ExecutionEventType.STATUS_CHANGED,
        row.status.value,
    )
    # the trace: one finished step per node walked, along the graph's edges from its entry
    trace = await ExecutionTrace.find_one({"execution_id": execution_id})
    assert trace is not None
    # (one stopped mid-step may end with that step still STARTED, if its report got through)
    walked = [step.node_id for step in trace.steps]
    assert walked in (run.steps, [*run.steps, run.current])
    ended_steps = [step for step in trace.steps if step.status is not StepStatus.STARTED]
    assert [step.node_id for step in ended_steps] == run.steps
    assert len(ended_steps) == len(walked) or row.status is ExecutionStatus.CANCELLED
    if row.workflow_id is not None:
        workflow = await Workflow.get(row.workflow_id)
        assert workflow is not None
        edges = {(edge.source, edge.target) for edge in workflow.edges}
    else:
        flowchart = await Flowchart.find_one({"agent_id": row.agent_id})
        assert flowchart is not None
        edges = {(edge.source, edge.target) for edge in flowchart.connections}
    if trace.steps:
        assert trace.steps[0].node_id not in {target for _, target in edges}
    for before, after in zip(trace.steps, trace.steps[1:], strict=False):
        if after.attempt > 1:  # a retry: right after its node's failed attempt
            assert (after.node_id, before.status, before.attempt) == (
                before.node_id,
                StepStatus.FAILED,
                after.attempt - 1,
            )
        else:
            assert (before.node_id, after.node_id) in edges
    # the row's counters are the sums over the steps; a retried node is done once
    assert row.nodes_done == sum(1 for step in ended_steps if step.attempt == 1)
    assert row.tokens == sum(step.tokens for step in trace.steps)
    # the simulator reports every call's tokens apart: the parts add up to the total
    assert row.prompt_tokens + row.completion_tokens == row.tokens
    assert row.completion_tokens == sum(step.completion_tokens or 0 for step in trace.steps)
    assert row.cost == sum((Decimal(str(step.cost)) for step in trace.steps), Decimal(0))
    assert row.ai_calls == sum(1 for step in trace.steps if step.ai_provider)
    # an AI node bills the provider its agent is configured with
    for step in trace.steps:
        if step.node_type is NodeType.AI and step.status is StepStatus.SUCCEEDED:
            assert step.ai_provider == agent.configuration.get("provider")
            assert step.tokens > 0
            assert step.cost > 0
    return row


async def test_simulated_executions_follow_their_graphs(
    services: Services, client: httpx.AsyncClient, created: CreatedIds
) -> None:
    # given: an engine that fails and cancels often enough to show each ending
    config = fast(concurrency=3, seed=11, failure_rate=0.1, cancel_rate=0.2, workflow_share=0.4)
    simulator = Simulator(client, config)

    # when
    runs = await asyncio.wait_for(simulator.run(max_executions=5), timeout=120)

    # then: five executions, each started once, and each consistent in both stores
    assert len(runs) == 5
    assert await created() == {parse_id(run.execution_id, "Execution") for run in runs}
    rows = [await _check_run(services, run) for run in runs]
    assert all((row.input or {}).get("source") == SOURCE for row in rows)
    assert simulator.gateway.retries == 0


LIFECYCLE = ("startExecution", "reportExecutionStep", "finishExecution", "cancelExecution")


class DroppingTransport(httpx.AsyncBaseTransport):
    """Hands every request to the app, but loses the answer of the first call of each
    lifecycle mutation and of every `every`-th call after, as a network failing after the
    gateway committed would."""

    def __init__(self, app: FastAPI, every: int) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._every = every
        self.sent_keys: list[str] = []
        self.dropped: list[tuple[str, str]] = []  # (operation, key)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != "POST":
            return response
        body: dict[str, Any] = orjson.loads(request.content)
        key = (body.get("variables") or {}).get("key")
        operation = next((name for name in LIFECYCLE if f"{name}(" in body["query"]), None)
        if operation is None or not isinstance(key, str):
            return response
        self.sent_keys.append(key)
        first = operation not in {dropped for dropped, _ in self.dropped}
        if key not in {k for _, k in self.dropped} and (
            first or len(self.sent_keys) % self._every == 0
        ):
            await response.aread()
            self.dropped.append((operation, key))
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def test_a_lost_answer_is_retried_with_the_same_key_and_applied_once(
    services: Services, app: FastAPI, created: CreatedIds, admin_key: str
) -> None:
    # given: a network that loses one answer in four after the gateway acted on the call
    transport = DroppingTransport(app, every=4)
    config = fast(concurrency=2, seed=3, failure_rate=0.0, cancel_rate=0.0)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://flowgate.test", headers=bearer(admin_key)
    ) as http:
        simulator = Simulator(http, config)
        simulator.gateway._retry_delay = 0.0

        # when
        runs = await asyncio.wait_for(simulator.run(max_executions=3), timeout=120)

    # then: every lost call was sent again with its own key, and changed things once
    assert {operation for operation, _ in transport.dropped} >= set(LIFECYCLE[:3])
    assert simulator.gateway.retries == len(transport.dropped)
    for _, key in transport.dropped:
        assert transport.sent_keys.count(key) == 2
    assert len(set(transport.sent_keys)) == len(transport.sent_keys) - len(transport.dropped)
    assert await created() == {parse_id(run.execution_id, "Execution") for run in runs}
    for run in runs:
        row = await _check_run(services, run)
        assert row.status is ExecutionStatus.SUCCEEDED


async def test_stopping_cancels_the_executions_still_running(
    services: Services, client: httpx.AsyncClient, created: CreatedIds
) -> None:
    # given: slow steps (0.3-2 s each), so that executions are mid-walk when it stops
    config = SimulatorConfig(
        interval=0.05, concurrency=2, seed=5, failure_rate=0.0, cancel_rate=0.0
    )
    simulator = Simulator(client, config)
    simulator.start()
    async with asyncio.timeout(30):
        while len(simulator.runs) < 2:  # noqa: ASYNC110 - the simulator has no event for it
            await asyncio.sleep(0.02)

    # when: it stops right after starting its second run (which is surely mid-walk; the
    # first may have reached an end node already on a short branch)
    stopped_at = utcnow()
    await simulator.stop()

    # then: nothing is left open, and what was still running says why it ended
    assert await created() == {parse_id(run.execution_id, "Execution") for run in simulator.runs}
    cancelled = 0
    for run in simulator.runs:
        row = await _check_run(services, run)
        if row.status is ExecutionStatus.CANCELLED:
            cancelled += 1
            assert row.error == "cancelled: the simulated engine stopped"
        else:
            assert row.ended_at is not None
            assert row.ended_at <= stopped_at, f"{row.status} after the stop"
    assert cancelled >= 1


def test_the_demo_server_reaches_itself_and_quiets_only_the_simulators_access_lines() -> None:
    from flowgate.settings import Settings
    from flowgate.simulator.serving import TAG, SimulatedServer, _not_the_simulator

    settings = Settings(host="0.0.0.0", port=8123)  # noqa: S104 - a wildcard, never bound
    server = SimulatedServer(uvicorn.Config(FastAPI()), settings, api_key="fgk_unused")

    def access(path: str) -> logging.LogRecord:
        args = ("127.0.0.1:5000", "POST", path, "1.1", 200)
        return logging.LogRecord(
            "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s" %d', args, None
        )

    assert server._base_url() == "http://127.0.0.1:8123"
    assert not _not_the_simulator(access(f"/graphql?client={TAG}"))
    assert _not_the_simulator(access("/graphql"))


async def test_at_a_human_node_the_engine_waits_until_someone_approves(
    client: httpx.AsyncClient, services: Services, created: CreatedIds
) -> None:
    # given: an engine that asks at every human node
    config = fast(approval_share=1.0, concurrency=3, seed=11, failure_rate=0.0, cancel_rate=0.0)
    simulator = Simulator(client, config)
    simulator.start()
    try:
        async with asyncio.timeout(120):
            while not (waiting := await _undecided(services, await created())):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        approval = waiting[0]
        # then: the run waits, paused, for as long as nobody decides
        await asyncio.sleep(2.5)  # longer than the engine's polling interval
        async with services.postgres.session() as session:
            row = await session.get(Execution, approval.execution_id)
        assert row is not None and row.status is ExecutionStatus.PAUSED
        run = next(r for r in simulator.runs if parse_id(r.execution_id, "Execution") == row.id)
        assert run.current == approval.node_id and approval.node_id not in run.steps

        # when: someone approves in GraphiQL (the admin: the engine's user, whom it asked)
        response = await client.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { decideApproval(approvalId: $id, decision: "
                "APPROVE) { __typename } }",
                "variables": {"id": to_global_id("Approval", approval.id)},
            },
        )
        assert response.json()["data"]["decideApproval"]["__typename"] == "ApprovalPayload"

        # then: the engine hears of it and walks on past the human node
        async with asyncio.timeout(30):
            while approval.node_id not in run.steps:  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.1)
        events = await ExecutionEvent.find({"execution_id": row.id}).sort("seq").to_list()
        kinds = [(e.type.value, e.status) for e in events]
        decided = kinds.index(("approval_decided", None))
        assert kinds[decided + 1] == ("status_changed", "running")
    finally:
        await simulator.stop()


async def _undecided(services: Services, execution_ids: set[uuid.UUID]) -> list[Approval]:
    async with services.postgres.session() as session:
        rows = await session.scalars(
            select(Approval)
            .where(Approval.execution_id.in_(execution_ids), Approval.decision.is_(None))
            .order_by(Approval.requested_at)
        )
        return list(rows.all())
