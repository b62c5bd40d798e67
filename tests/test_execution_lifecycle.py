"""The execution lifecycle through real HTTP: state machine, events, idempotency."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from models.documents import ExecutionEvent, ExecutionTrace
from models.sql import Agent, Execution, ExecutionOutboxEntry
from resolvers.ids import parse_id
from tests.scratch import Scratch, gql

START = """
mutation Start($agentId: ID, $workflowId: ID, $input: JSON, $key: String) {
  startExecution(agentId: $agentId, workflowId: $workflowId, input: $input, idempotencyKey: $key) {
    __typename
    ... on StartExecutionPayload { execution { id status progress { nodesTotal } } }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
  }
}
"""

STEP = """
mutation Step($id: ID!, $step: StepInput!, $key: String) {
  reportExecutionStep(executionId: $id, step: $step, idempotencyKey: $key) {
    __typename
    ... on ReportExecutionStepPayload {
      eventSeq
      execution { status tokens cost aiCalls progress { nodesDone nodesTotal } }
    }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
  }
}
"""

FINISH = """
mutation Finish($id: ID!, $status: ExecutionStatus!, $error: String, $key: String) {
  finishExecution(executionId: $id, status: $status, error: $error, idempotencyKey: $key) {
    __typename
    ... on FinishExecutionPayload { execution { status endedAt durationMs error } }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
  }
}
"""

CANCEL = """
mutation Cancel($id: ID!, $reason: String) {
  cancelExecution(executionId: $id, reason: $reason) {
    __typename
    ... on FinishExecutionPayload { execution { status error } }
    ... on Error { code message }
  }
}
"""

STEPS = """
query Steps($id: ID!) { execution(id: $id) { status steps { nodeId status tokens } } }
"""


async def start(scratch: Scratch, agent_id: str, **variables: Any) -> dict[str, Any]:
    data = await gql(scratch.client, START, {"agentId": agent_id, **variables})
    result: dict[str, Any] = data["startExecution"]
    return result


async def step(
    scratch: Scratch, execution_id: str, node_id: str, status: str, **fields: Any
) -> dict[str, Any]:
    key = fields.pop("key", None)
    variables = {
        "id": execution_id,
        "step": {"nodeId": node_id, "status": status, "nodeType": "ACTION", **fields},
        "key": key,
    }
    result: dict[str, Any] = (await gql(scratch.client, STEP, variables))["reportExecutionStep"]
    return result


async def events_of(execution_id: str) -> list[ExecutionEvent]:
    local = parse_id(execution_id, "Execution")
    return await ExecutionEvent.find({"execution_id": local}).sort("seq").to_list()


async def test_a_run_from_start_to_success(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("runner")

    # when: started, two steps, finished
    started = await start(scratch, agent_id, input={"question": "why?"})
    execution_id = started["execution"]["id"]
    await step(scratch, execution_id, "a", "STARTED")
    done = await step(
        scratch,
        execution_id,
        "a",
        "SUCCEEDED",
        tokens=120,
        cost=0.5,
        aiProvider="anthropic",
        durationMs=900,
    )
    await step(scratch, execution_id, "b", "SKIPPED")
    finished = await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})

    # then: the row
    assert started["__typename"] == "StartExecutionPayload"
    assert started["execution"]["status"] == "PENDING"
    assert done["execution"]["status"] == "RUNNING"
    assert done["execution"]["tokens"] == 120
    assert done["execution"]["aiCalls"] == 1
    assert done["execution"]["progress"]["nodesDone"] == 1
    result = finished["finishExecution"]
    assert result["execution"]["status"] == "SUCCEEDED"
    assert result["execution"]["durationMs"] >= 0
    # the event log: gap-free from 1, in the order things happened
    events = await events_of(execution_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [(e.type.value, e.status) for e in events] == [
        ("status_changed", "pending"),
        ("status_changed", "running"),
        ("step_started", "started"),
        ("step_finished", "succeeded"),
        ("progress", None),
        ("step_finished", "skipped"),
        ("progress", None),
        ("status_changed", "succeeded"),
    ]
    assert done["eventSeq"] == 4
    # the trace: a step completed in place, then a skipped one
    steps = (await gql(scratch.client, STEPS, {"id": execution_id}))["execution"]["steps"]
    assert [(s["nodeId"], s["status"], s["tokens"]) for s in steps] == [
        ("a", "SUCCEEDED", 120),
        ("b", "SKIPPED", 0),
    ]
    # the agent's counters
    async with scratch.services.postgres.session() as session:
        agent = await session.get(Agent, parse_id(agent_id, "Agent"))
    assert agent is not None and agent.execution_count == 1
    assert agent.last_execution_at is not None
    # nothing left in the outbox
    async with scratch.services.postgres.session() as session:
        pending = await session.scalars(
            select(ExecutionOutboxEntry).where(
                ExecutionOutboxEntry.execution_id == parse_id(execution_id, "Execution")
            )
        )
        assert pending.all() == []


async def test_illegal_transitions_are_refused(scratch: Scratch) -> None:
    # given: a finished execution
    agent_id = await scratch.create_agent("finished")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await gql(scratch.client, FINISH, {"id": execution_id, "status": "FAILED", "error": "boom"})

    # when
    late_step = await step(scratch, execution_id, "a", "STARTED")
    refinish = await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
    cancel = await gql(scratch.client, CANCEL, {"id": execution_id})

    # then
    assert late_step["__typename"] == "InvalidTransition"
    assert "failed" in late_step["message"]
    assert refinish["finishExecution"]["__typename"] == "InvalidTransition"
    assert cancel["cancelExecution"]["__typename"] == "InvalidTransition"
    assert len(await events_of(execution_id)) == 2  # pending, failed: nothing appended


async def test_cancel_keeps_the_reason(scratch: Scratch) -> None:
    agent_id = await scratch.create_agent("cancelled")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]

    result = await gql(scratch.client, CANCEL, {"id": execution_id, "reason": "user asked"})

    assert result["cancelExecution"]["execution"] == {
        "status": "CANCELLED",
        "error": "cancelled: user asked",
    }


async def test_bad_input_names_every_field_and_writes_nothing(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("validated")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    before = await events_of(execution_id)

    # when
    result = await step(scratch, execution_id, "", "FAILED", tokens=-1, cost=10**9, durationMs=-5)
    no_target = (await gql(scratch.client, START, {}))["startExecution"]
    not_an_object = await start(scratch, agent_id, input=[1, 2], key="")
    bad_finish = await gql(scratch.client, FINISH, {"id": execution_id, "status": "FAILED"})

    # then
    assert result["__typename"] == "ValidationError"
    assert {i["path"] for i in result["issues"]} == {
        "step.nodeId",
        "step.tokens",
        "step.cost",
        "step.durationMs",
        "step.error",
    }
    assert no_target["__typename"] == "ValidationError"
    assert no_target["issues"][0]["path"] == "agentId"
    assert not_an_object["__typename"] == "ValidationError"
    assert {i["path"] for i in not_an_object["issues"]} == {"input", "idempotencyKey"}
    assert bad_finish["finishExecution"]["issues"] == [{"path": "error", "code": "REQUIRED"}]
    assert await events_of(execution_id) == before


async def test_unknown_and_foreign_ids_are_not_found(scratch: Scratch) -> None:
    # given: an id that names nothing, and an agent of the other organization
    missing = "RXhlY3V0aW9uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"
    foreign = await scratch.foreign_agent_id()

    # when
    result = await step(scratch, missing, "a", "STARTED")
    foreign_start = await start(scratch, foreign)

    # then
    assert result["__typename"] == "NotFound"
    assert foreign_start["__typename"] == "NotFound"


async def test_a_retry_with_the_same_key_returns_the_first_answer(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("idempotent")
    key = f"start-{uuid.uuid4()}"

    # when: the engine retries its start and its step
    first = await start(scratch, agent_id, key=key, input={"n": 1})
    again = await start(scratch, agent_id, key=key, input={"n": 1})
    execution_id = first["execution"]["id"]
    step_key = f"step-{uuid.uuid4()}"
    one = await step(scratch, execution_id, "a", "SUCCEEDED", tokens=5, key=step_key)
    two = await step(scratch, execution_id, "a", "SUCCEEDED", tokens=5, key=step_key)

    # then: one execution, one step
    assert again["execution"]["id"] == execution_id
    assert one["eventSeq"] == two["eventSeq"]
    assert two["execution"]["tokens"] == 5
    async with scratch.services.postgres.session() as session:
        runs = await session.scalars(
            select(Execution).where(Execution.agent_id == parse_id(agent_id, "Agent"))
        )
        assert len(runs.all()) == 1


async def test_the_same_key_with_another_input_is_a_conflict(scratch: Scratch) -> None:
    agent_id = await scratch.create_agent("conflicting")
    key = f"start-{uuid.uuid4()}"
    await start(scratch, agent_id, key=key, input={"n": 1})

    result = await start(scratch, agent_id, key=key, input={"n": 2})

    assert result["__typename"] == "IdempotencyConflict"
    assert result["code"] == "IDEMPOTENCY_CONFLICT"


async def test_concurrent_steps_get_unique_gap_free_numbers(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("concurrent")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]

    # when: twenty steps reported at once
    results = await asyncio.gather(
        *(step(scratch, execution_id, f"n{i}", "SUCCEEDED", tokens=1) for i in range(20))
    )

    # then: every call succeeded, each with its own number, and the log has no gap
    assert {r["__typename"] for r in results} == {"ReportExecutionStepPayload"}
    seqs = [r["eventSeq"] for r in results]
    assert len(set(seqs)) == 20
    events = await events_of(execution_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    trace = await ExecutionTrace.find_one({"execution_id": parse_id(execution_id, "Execution")})
    assert trace is not None and len(trace.steps) == 20
    assert trace.applied_seq == events[-1].seq
    async with scratch.services.postgres.session() as session:
        row = await session.get(Execution, parse_id(execution_id, "Execution"))
    assert row is not None and row.tokens == 20 and row.nodes_done == 20
