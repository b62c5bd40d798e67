"""Prompt and completion tokens told apart: how a step's parts and total go together, the
refusals naming `step.tokens` (nothing written), and the sums on the execution, its trace
and `executionAggregate`, through real HTTP and the real stores."""

from __future__ import annotations

from typing import Any

import pytest

from models.documents import ExecutionTrace
from models.sql import Execution
from resolvers.ids import parse_id
from resolvers.mutations.step_tokens import MAX_TOKENS_PER_STEP, StepTokens, step_tokens
from resolvers.validation.issues import Issues
from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import events_of, start, step

STEP = """
mutation Step($id: ID!, $step: StepInput!) {
  reportExecutionStep(executionId: $id, step: $step) {
    __typename
    ... on ReportExecutionStepPayload { execution { tokens promptTokens completionTokens } }
    ... on ValidationError { issues { path code message } }
  }
}
"""
EXECUTION = """
query($id: ID!) {
  execution(id: $id) {
    tokens promptTokens completionTokens
    steps { nodeId tokens promptTokens completionTokens }
  }
}
"""
AGGREGATE = """
query($agentId: ID!) {
  executionAggregate(groupBy: [AGENT], filter: {agentId: $agentId}) {
    count totalTokens promptTokens completionTokens
  }
}
"""


async def report(scratch: Scratch, execution_id: str, node_id: str, **fields: Any) -> Any:
    variables = {
        "id": execution_id,
        "step": {"nodeId": node_id, "status": "SUCCEEDED", "nodeType": "AI", **fields},
    }
    return (await gql(scratch.client, STEP, variables))["reportExecutionStep"]


@pytest.mark.parametrize(
    ("tokens", "prompt", "completion", "expected"),
    [
        (None, None, None, StepTokens(0)),
        (7, None, None, StepTokens(7)),  # a total alone: no split invented
        (None, 100, 20, StepTokens(120, 100, 20)),
        (None, 100, None, StepTokens(100, 100, 0)),  # a missing part counts 0
        (120, 100, 20, StepTokens(120, 100, 20)),
        (50, 30, None, StepTokens(50, 30, 20)),  # the other part is what the total leaves
        (50, None, 50, StepTokens(50, 0, 50)),
    ],
)
def test_the_parts_and_the_total_go_together(
    tokens: int | None, prompt: int | None, completion: int | None, expected: StepTokens
) -> None:
    issues = Issues()
    assert step_tokens(issues, tokens, prompt, completion) == expected
    assert not issues


@pytest.mark.parametrize(
    ("tokens", "prompt", "completion", "path", "code"),
    [
        (None, -1, 5, "step.promptTokens", "out_of_range"),
        (10, 5, -1, "step.completionTokens", "out_of_range"),
        (None, MAX_TOKENS_PER_STEP + 1, None, "step.promptTokens", "out_of_range"),
        (None, MAX_TOKENS_PER_STEP, 1, "step.tokens", "out_of_range"),  # the sum is the total
        (10, 3, 4, "step.tokens", "invalid"),
        (10, 11, None, "step.tokens", "invalid"),
        (10, None, 11, "step.tokens", "invalid"),
    ],
)
def test_parts_out_of_range_or_not_adding_up_are_refused(
    tokens: int | None, prompt: int | None, completion: int | None, path: str, code: str
) -> None:
    issues = Issues()
    assert step_tokens(issues, tokens, prompt, completion) == StepTokens()
    assert [(issue.path, issue.code.value) for issue in issues] == [(path, code)]


async def test_bad_parts_are_named_and_write_nothing(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("split-refused")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    before = await events_of(execution_id)

    # when
    negative = await report(scratch, execution_id, "a", promptTokens=-3, completionTokens=-1)
    inconsistent = await report(
        scratch, execution_id, "a", tokens=10, promptTokens=3, completionTokens=4
    )
    too_big_a_part = await report(scratch, execution_id, "a", tokens=10, completionTokens=12)

    # then
    assert negative["__typename"] == "ValidationError"
    assert {(i["path"], i["code"]) for i in negative["issues"]} == {
        ("step.promptTokens", "OUT_OF_RANGE"),
        ("step.completionTokens", "OUT_OF_RANGE"),
    }
    assert inconsistent["issues"] == [
        {
            "path": "step.tokens",
            "code": "INVALID",
            "message": "must be promptTokens + completionTokens (7), got 10",
        }
    ]
    assert [(i["path"], i["code"]) for i in too_big_a_part["issues"]] == [
        ("step.tokens", "INVALID")
    ]
    assert await events_of(execution_id) == before
    async with scratch.services.postgres.session() as session:
        row = await session.get(Execution, parse_id(execution_id, "Execution"))
    assert row is not None
    assert (row.tokens, row.prompt_tokens, row.completion_tokens) == (0, 0, 0)


async def test_the_execution_and_its_steps_sum_the_parts(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("split-summed")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]

    # when: parts alone, a total with one part, a total alone, all three
    first = await report(scratch, execution_id, "a", promptTokens=100, completionTokens=20)
    await report(scratch, execution_id, "b", tokens=50, promptTokens=30)
    await report(scratch, execution_id, "c", tokens=7)
    last = await report(scratch, execution_id, "d", tokens=9, promptTokens=4, completionTokens=5)
    # the lifecycle helper's step, as engines that know only totals send it
    await step(scratch, execution_id, "e", "SUCCEEDED", tokens=3)

    # then: the payloads
    assert first["execution"] == {"tokens": 120, "promptTokens": 100, "completionTokens": 20}
    assert last["execution"] == {"tokens": 186, "promptTokens": 134, "completionTokens": 45}
    # the execution as read back, and its steps (the total-only ones have no split)
    data = (await gql(scratch.client, EXECUTION, {"id": execution_id}))["execution"]
    assert (data["tokens"], data["promptTokens"], data["completionTokens"]) == (189, 134, 45)
    assert [
        (s["nodeId"], s["tokens"], s["promptTokens"], s["completionTokens"]) for s in data["steps"]
    ] == [
        ("a", 120, 100, 20),
        ("b", 50, 30, 20),
        ("c", 7, None, None),
        ("d", 9, 4, 5),
        ("e", 3, None, None),
    ]
    # the stores themselves: the row's sums, the trace's steps
    local = parse_id(execution_id, "Execution")
    async with scratch.services.postgres.session() as session:
        row = await session.get(Execution, local)
    assert row is not None
    assert (row.tokens, row.prompt_tokens, row.completion_tokens) == (189, 134, 45)
    trace = await ExecutionTrace.find_one({"execution_id": local})
    assert trace is not None
    assert sum(s.prompt_tokens or 0 for s in trace.steps) == row.prompt_tokens
    assert sum(s.completion_tokens or 0 for s in trace.steps) == row.completion_tokens


async def test_the_aggregate_sums_the_parts_over_executions(scratch: Scratch) -> None:
    # given: two executions of one agent
    agent_id = await scratch.create_agent("split-aggregated")
    for prompt, completion in ((100, 20), (40, 2)):
        execution_id = (await start(scratch, agent_id))["execution"]["id"]
        await report(scratch, execution_id, "a", promptTokens=prompt, completionTokens=completion)
        await report(scratch, execution_id, "b", tokens=5)

    # when
    groups = (await gql(scratch.client, AGGREGATE, {"agentId": agent_id}))["executionAggregate"]

    # then
    assert groups == [{"count": 2, "totalTokens": 172, "promptTokens": 140, "completionTokens": 22}]
