"""An engine's retries that arrive together: with one idempotency key and one input, every
one of them gets the first answer (the README's promise), however many run at once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import FINISH, events_of, start, step

RETRIES = 20

CANCEL_WITH_KEY = """
mutation Cancel($id: ID!, $reason: String, $key: String) {
  cancelExecution(executionId: $id, reason: $reason, idempotencyKey: $key) {
    __typename
    ... on FinishExecutionPayload { execution { status error endedAt } }
    ... on Error { code message }
  }
}
"""


async def _at_once(scratch: Scratch, query: str, variables: dict[str, Any]) -> list[Any]:
    answers = await asyncio.gather(*(gql(scratch.client, query, variables) for _ in range(RETRIES)))
    return [next(iter(answer.values())) for answer in answers]


@pytest.mark.parametrize(
    ("query", "variables", "status"),
    [
        (FINISH, {"status": "SUCCEEDED"}, "SUCCEEDED"),
        (FINISH, {"status": "FAILED", "error": "boom"}, "FAILED"),
        (CANCEL_WITH_KEY, {"reason": "operator"}, "CANCELLED"),
    ],
)
async def test_concurrent_identical_retries_all_get_the_first_answer(
    scratch: Scratch, query: str, variables: dict[str, Any], status: str
) -> None:
    # given: a running execution
    agent_id = await scratch.create_agent("retried-at-once")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, execution_id, "a", "STARTED")
    before = len(await events_of(execution_id))
    key = f"end-{uuid.uuid4()}"

    # when: the engine's call and its retries, all at once, same key, same input
    results = await _at_once(scratch, query, {"id": execution_id, "key": key, **variables})

    # then: one answer, twenty times; the change applied once
    assert [r["__typename"] for r in results] == ["FinishExecutionPayload"] * RETRIES, results
    assert {r["execution"]["status"] for r in results} == {status}
    assert len({r["execution"]["endedAt"] for r in results if "endedAt" in r["execution"]}) <= 1
    events = await events_of(execution_id)
    assert [(e.seq, e.status) for e in events[before:]] == [(before + 1, status.lower())]


async def test_concurrent_retries_with_another_input_are_conflicts(scratch: Scratch) -> None:
    # given: a running execution, one key used with two different inputs at once
    agent_id = await scratch.create_agent("retried-conflict")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, execution_id, "a", "STARTED")
    before = len(await events_of(execution_id))
    key = f"end-{uuid.uuid4()}"
    succeed = {"id": execution_id, "key": key, "status": "SUCCEEDED"}
    fail = {"id": execution_id, "key": key, "status": "FAILED", "error": "boom"}

    # when
    answers = await asyncio.gather(
        *(gql(scratch.client, FINISH, succeed if i % 2 else fail) for i in range(RETRIES))
    )

    # then: whichever came first won; every other call with its input gets the same answer,
    # every call with the other input a conflict, never an INVALID_TRANSITION
    results = [answer["finishExecution"] for answer in answers]
    kinds = {r["__typename"] for r in results}
    assert kinds == {"FinishExecutionPayload", "IdempotencyConflict"}, results
    winners = {r["execution"]["status"] for r in results if "execution" in r}
    assert len(winners) == 1
    assert len(await events_of(execution_id)) == before + 1
