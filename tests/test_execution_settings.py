"""Workflow settings that hold: `concurrency` (race-free across replicas), `timeoutSeconds`
(the sweeper, one outcome when it races a step or another sweeper) and `maxRetries`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, update

from flowgate.principal import Actor
from flowgate.services import Services
from flowgate.settings import Settings
from models.documents import ExecutionEvent
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionStatus
from models.sql import Execution
from models.sql.base import utcnow
from resolvers.ids import parse_id
from resolvers.lifecycle.timeouts import sweep
from resolvers.mutations.errors import InvalidTransitionError
from resolvers.mutations.executions import end_execution
from tests.auth import bearer
from tests.execution_settings import (
    EXECUTION,
    FINISH,
    client_of,
    create_workflow,
    remove_workflows,
    replica,
    start,
    step,
)
from tests.scratch import Scratch, gql


@pytest.fixture
async def made(scratch: Scratch) -> AsyncIterator[Scratch]:
    try:
        yield scratch
    finally:
        await remove_workflows(scratch)


async def _live(services: Services, workflow_id: str) -> int:
    async with services.postgres.session() as session:
        count = await session.scalar(
            select(func.count()).where(
                Execution.workflow_id == parse_id(workflow_id, "Workflow"),
                Execution.status.not_in(TERMINAL_EXECUTION_STATUSES),
            )
        )
    return count or 0


async def _past_deadline(services: Services, execution_id: str) -> None:
    """As if its timeout had passed: the deadline is moved, not waited for."""
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Execution)
            .where(Execution.id == parse_id(execution_id, "Execution"))
            .values(deadline_at=func.now())
        )


async def _events(execution_id: str) -> list[ExecutionEvent]:
    local = parse_id(execution_id, "Execution")
    return await ExecutionEvent.find({"execution_id": local}).sort("seq").to_list()


def _terminal(events: list[ExecutionEvent]) -> list[ExecutionEvent]:
    return [e for e in events if e.status in {"failed", "succeeded", "cancelled"}
            and e.type.value == "status_changed"]  # fmt: skip


# --- concurrency ---------------------------------------------------------------------------


async def test_a_start_beyond_concurrency_is_refused_until_a_run_ends(made: Scratch) -> None:
    # given
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, concurrency=1)
    first = await start(made.client, workflow_id)

    # when
    second = await start(made.client, workflow_id)
    await step(made.client, first["execution"]["id"], "a", "SUCCEEDED")
    finished = await gql(made.client, FINISH, {"id": first["execution"]["id"]})
    assert finished["finishExecution"]["__typename"] == "FinishExecutionPayload", finished
    third = await start(made.client, workflow_id)

    # then
    assert first["__typename"] == "StartExecutionPayload"
    assert second["__typename"] == "ConcurrencyLimitReached", second
    assert second["code"] == "CONCURRENCY_LIMIT_REACHED"
    assert (second["limit"], second["live"]) == (1, 1)
    assert third["__typename"] == "StartExecutionPayload", third


async def test_two_replicas_starting_the_last_slot_at_once_let_exactly_one_in(
    made: Scratch, settings: Settings, services: Services, admin_key: str
) -> None:
    # given: two gateways on the same stores, a workflow with two slots, one taken
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, concurrency=2)
    assert (await start(made.client, workflow_id))["__typename"] == "StartExecutionPayload"
    async with replica(settings, services) as other, client_of(other, bearer(admin_key)) as second:
        # when: each replica starts the last slot, several times at once
        results = await asyncio.gather(
            *(start(client, workflow_id) for client in (made.client, second) for _ in range(3))
        )

    # then: one got it; the others were refused, with the count they saw
    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["ConcurrencyLimitReached"] * 5 + ["StartExecutionPayload"], results
    assert all(r["live"] == 2 for r in results if r["__typename"] == "ConcurrencyLimitReached")
    assert await _live(services, workflow_id) == 2


async def test_a_retried_start_returns_its_first_answer_even_when_the_workflow_is_full(
    made: Scratch,
) -> None:
    # given
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, concurrency=1)
    variables = {"w": workflow_id, "key": made.name("start-key")}
    from tests.execution_settings import START

    first = (await gql(made.client, START, variables))["startExecution"]

    # when: the engine retries (same key): the slot it holds is its own
    again = (await gql(made.client, START, variables))["startExecution"]

    # then
    assert again == first


# --- timeouts ------------------------------------------------------------------------------


async def test_a_run_past_its_timeout_is_failed_with_timeout_and_the_usual_events(
    made: Scratch, services: Services
) -> None:
    # given: a 1 s timeout, a run that started and then went quiet
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, timeoutSeconds=1)
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]
    await step(made.client, execution_id, "a", "STARTED")
    await asyncio.sleep(1.1)

    # when
    ended = await sweep(services)
    late = await step(made.client, execution_id, "a", "SUCCEEDED")

    # then
    assert ended >= 1
    data = (await gql(made.client, EXECUTION, {"id": execution_id}))["execution"]
    assert (data["status"], data["errorCode"]) == ("FAILED", "TIMEOUT")
    assert data["error"].startswith("timed out")
    events = await _events(execution_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    last = events[-1]
    assert (last.status, last.payload["errorCode"], last.actor_type) == (
        "failed",
        "timeout",
        "system",
    )
    assert last.actor_id is None
    assert late["__typename"] == "InvalidTransition"
    entries = await made.audit_entries(parse_id(execution_id, "Execution"))
    assert entries[-1].action == "execution.failed"
    assert entries[-1].actor_type == "system"
    # and the sweep ends it once: a second pass finds nothing of it
    assert await _live(services, workflow_id) == 0


async def test_a_timeout_racing_a_step_report_has_one_outcome(
    made: Scratch, services: Services
) -> None:
    # given: runs past their deadline, each with a step report in flight
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, concurrency=10)
    for _ in range(4):
        execution_id = (await start(made.client, workflow_id))["execution"]["id"]
        await step(made.client, execution_id, "a", "STARTED")
        await _past_deadline(services, execution_id)

        # when: the sweeper and the engine at once
        _, reported = await asyncio.gather(
            sweep(services), step(made.client, execution_id, "a", "SUCCEEDED")
        )

        # then: failed by the timeout, with the step before it or refused after it
        events = await _events(execution_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert [e.status for e in _terminal(events)] == ["failed"]
        assert events[-1].payload.get("errorCode") == "timeout"
        finished = [e for e in events if e.type.value == "step_finished"]
        if reported["__typename"] == "ReportExecutionStepPayload":
            assert len(finished) == 1
            assert finished[0].seq < events[-1].seq
        else:
            assert reported["__typename"] == "InvalidTransition", reported
            assert finished == []


async def test_two_sweepers_at_once_end_each_run_once(made: Scratch, services: Services) -> None:
    # given: three runs past their deadline
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, concurrency=10)
    ids = [(await start(made.client, workflow_id))["execution"]["id"] for _ in range(3)]
    for execution_id in ids:
        await _past_deadline(services, execution_id)

    # when: two passes at once (as two replicas' loops would), then one more
    counts = await asyncio.gather(sweep(services), sweep(services))
    await sweep(services)

    # then: every run ended exactly once, by one of them
    for execution_id in ids:
        assert [e.status for e in _terminal(await _events(execution_id))] == ["failed"]
    assert sum(counts) >= 3  # other tests' runs may be due too
    assert 0 in counts  # one pass held the lock; the other skipped


async def test_the_ending_path_refuses_a_second_ending(made: Scratch, services: Services) -> None:
    # given: the lock aside, the ending itself is once-only (two sweepers' calls at once)
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id)
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]
    local = parse_id(execution_id, "Execution")

    async def end() -> str:
        try:
            await end_execution(
                services,
                Actor.system(made.organization_id),
                execution_id=local,
                global_id=execution_id,
                status=ExecutionStatus.FAILED,
                fields={"error": "timed out", "error_code": "timeout"},
                idempotency_key=None,
                operation="timeoutExecution",
            )
        except InvalidTransitionError:
            return "refused"
        return "ended"

    # when
    outcomes = await asyncio.gather(end(), end())

    # then
    assert sorted(outcomes) == ["ended", "refused"]
    assert len(_terminal(await _events(execution_id))) == 1


async def test_the_background_sweepers_of_two_replicas_time_a_run_out_once(
    made: Scratch, settings: Settings, services: Services
) -> None:
    # given: two replicas whose sweepers run every 0.1 s
    fast = settings.model_copy(update={"timeout_sweep_interval": 0.1})
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, timeoutSeconds=1)
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]

    # when
    async with replica(fast, services), replica(fast, services):
        for _ in range(60):
            await asyncio.sleep(0.1)
            if await _live(services, workflow_id) == 0:
                break

    # then
    data = (await gql(made.client, EXECUTION, {"id": execution_id}))["execution"]
    assert (data["status"], data["errorCode"]) == ("FAILED", "TIMEOUT")
    assert len(_terminal(await _events(execution_id))) == 1


async def test_a_run_without_a_workflow_has_no_deadline(made: Scratch, services: Services) -> None:
    agent_id = await made.create_agent("runner")
    started = await gql(
        made.client,
        "mutation($a: ID!) { startExecution(agentId: $a) { "
        "... on StartExecutionPayload { execution { id } } } }",
        {"a": agent_id},
    )
    local = parse_id(started["startExecution"]["execution"]["id"], "Execution")
    async with services.postgres.session() as session:
        row = await session.get(Execution, local)
    assert row is not None
    assert (row.deadline_at, row.max_retries) == (None, 3)


async def test_a_workflow_run_keeps_the_deadline_it_started_with(
    made: Scratch, services: Services
) -> None:
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, timeoutSeconds=120, maxRetries=0)
    before = utcnow()
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]
    async with services.postgres.session() as session:
        row = await session.get(Execution, parse_id(execution_id, "Execution"))
    assert row is not None and row.deadline_at is not None
    assert row.max_retries == 0
    assert 119 <= (row.deadline_at - before).total_seconds() <= 125


# --- retries -------------------------------------------------------------------------------


async def test_a_failed_step_is_retried_up_to_max_retries_and_attempts_show_in_steps(
    made: Scratch,
) -> None:
    # given: one retry allowed
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, maxRetries=1)
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]

    # when: fails, is retried, fails again, then a third try
    first = await step(made.client, execution_id, "a", "FAILED", error="boom")
    retry_started = await step(made.client, execution_id, "a", "STARTED")
    retry_failed = await step(made.client, execution_id, "a", "FAILED", error="boom again")
    third = await step(made.client, execution_id, "a", "STARTED")
    other_node = await step(made.client, execution_id, "b", "SUCCEEDED")

    # then
    assert first["__typename"] == retry_started["__typename"] == "ReportExecutionStepPayload"
    assert retry_failed["__typename"] == "ReportExecutionStepPayload"
    assert third["__typename"] == "RetriesExhausted", third
    assert (third["nodeId"], third["failures"], third["maxRetries"]) == ("a", 2, 1)
    assert other_node["__typename"] == "ReportExecutionStepPayload"
    data = (await gql(made.client, EXECUTION, {"id": execution_id}))["execution"]
    assert [(s["nodeId"], s["status"], s["attempt"]) for s in data["steps"]] == [
        ("a", "FAILED", 1),
        ("a", "FAILED", 2),
        ("b", "SUCCEEDED", 1),
    ]
    # a node counts once toward progress, however many attempts it took
    assert data["progress"]["nodesDone"] == 2


async def test_two_reports_racing_for_the_last_retry_get_one_attempt(
    made: Scratch, admin_key: str
) -> None:
    # given: no retries, the node failed once already... allowed one retry instead
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, maxRetries=1)
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]
    await step(made.client, execution_id, "a", "FAILED", error="boom")

    # when: two failures of the retry reported at once
    results = await asyncio.gather(
        *(step(made.client, execution_id, "a", "FAILED", error="again") for _ in range(2))
    )

    # then: one is the retry; the other is past the allowance
    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["ReportExecutionStepPayload", "RetriesExhausted"], results


async def test_without_a_retry_allowance_a_failed_node_takes_no_more_reports(
    made: Scratch, client: httpx.AsyncClient
) -> None:
    agent_id = await made.create_agent("runner")
    workflow_id = await create_workflow(made, agent_id, maxRetries=0)
    execution_id = (await start(made.client, workflow_id))["execution"]["id"]
    await step(made.client, execution_id, "a", "FAILED", error="boom")
    again = await step(made.client, execution_id, "a", "SUCCEEDED")
    assert again["__typename"] == "RetriesExhausted"
    assert again["code"] == "RETRIES_EXHAUSTED"
