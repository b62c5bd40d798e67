"""`executionCommands` over a real websocket: what an engine hears about its runs
(decisions, pauses, resumes, cancellations), each once, in order, resumable by cursor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from flowgate.services import Services
from tests.approvals import CANCEL, DECIDE, PAUSE, RESUME, Flow, flow, user_gid
from tests.auth import USER, VIEWER, api_key_for, bearer, client_as
from tests.scratch import Scratch
from tests.ws import GraphQLWebSocket, SubscriptionError, connect

COMMANDS = """
subscription($a: ID, $w: ID, $after: String) {
  executionCommands(agentId: $a, workflowId: $w, after: $after) {
    cursor kind executionId decision comment reason status
    approval { nodeId decision }
    issuedBy { id }
  }
}
"""


@pytest.fixture
async def made(scratch: Scratch) -> AsyncIterator[Flow]:
    async with flow(scratch) as built:
        yield built


async def _take(ws: GraphQLWebSocket, operation: str, count: int) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    async for payload in ws.results(operation, timeout=10):
        assert "errors" not in payload, payload["errors"]
        taken.append(payload["data"]["executionCommands"])
        if len(taken) == count:
            break
    return taken


async def _silent(ws: GraphQLWebSocket, operation: str, seconds: float) -> bool:
    try:
        async for payload in ws.results(operation, timeout=seconds):
            raise AssertionError(f"unexpected: {payload}")
    except TimeoutError:
        return True
    return True


async def _codes(ws: GraphQLWebSocket, variables: dict[str, Any]) -> list[str | None]:
    operation = await ws.subscribe(COMMANDS, variables)
    try:
        errors = [e for p in [p async for p in ws.results(operation)]
                  for e in p.get("errors", [])]  # fmt: skip
    except SubscriptionError as refused:
        errors = refused.errors
    return [e.get("extensions", {}).get("code") for e in errors]


async def test_an_engine_hears_each_command_once_in_order_and_resumes_by_cursor(
    made: Flow, live_server: str, admin_payload: dict[str, str], app: FastAPI, services: Services
) -> None:
    url = f"ws://{live_server}/graphql"
    async with client_as(app, services, USER) as user:
        workflow = await made.workflow({"isPublic": False, "viewerIds": [user_gid(user)]})
        execution = await made.start(workflow)
        other_agent = await made.scratch.create_agent("elsewhere")
        async with connect(url, admin_payload) as ws:
            operation = await ws.subscribe(COMMANDS, {"a": made.agent_id})
            await asyncio.sleep(0.5)  # registered (the protocol does not acknowledge it)
            # when: an operator pauses and resumes, the user approves, then it is cancelled
            await made.run(PAUSE, id=execution, reason="a look")
            await made.run(RESUME, id=execution)
            approval = await made.request(execution, [user_gid(user)])
            decided = await user.post(DECIDE, {"id": approval, "decision": "APPROVE",
                                               "comment": "fine"})  # fmt: skip
            assert decided["data"]["decideApproval"]["__typename"] == "ApprovalPayload"
            await made.run(CANCEL, id=execution)
            # (the other agent's run is not this subscriber's business)
            other = await made.run(
                "mutation($a: ID!) { startExecution(agentId: $a) { __typename "
                "... on StartExecutionPayload { execution { id } } } }",
                a=other_agent,
            )
            await made.run(PAUSE, id=other["startExecution"]["execution"]["id"])
            heard = await _take(ws, operation, 4)
            # then
            assert [c["kind"] for c in heard] == [
                "PAUSED", "RESUMED", "APPROVAL_DECIDED", "CANCELLED"
            ]  # fmt: skip
            assert {c["executionId"] for c in heard} == {execution}
            assert heard[0]["reason"] == "a look"
            assert heard[2]["decision"] == "APPROVE" and heard[2]["comment"] == "fine"
            assert heard[2]["status"] == "running"
            assert heard[2]["approval"] == {"nodeId": "review", "decision": "APPROVE"}
            assert heard[2]["issuedBy"] == {"id": user_gid(user)}
            assert heard[3]["reason"] == "cancelled"
            assert await _silent(ws, operation, 1.5)

        # when: an engine reconnects after the second command
        async with connect(url, admin_payload) as ws:
            resumed = await ws.subscribe(COMMANDS, {"a": made.agent_id,
                                                    "after": heard[1]["cursor"]})  # fmt: skip
            # then: the two after it, once each, then silence
            again = await _take(ws, resumed, 2)
            assert [c["cursor"] for c in again] == [c["cursor"] for c in heard[2:]]
            assert await _silent(ws, resumed, 1.5)

            # and: by workflow, from the start of its history
            by_workflow = await ws.subscribe(COMMANDS, {"w": workflow, "after": "c2VxOjA"})
            kinds = [c["kind"] for c in await _take(ws, by_workflow, 4)]
            assert kinds == ["PAUSED", "RESUMED", "APPROVAL_DECIDED", "CANCELLED"]


async def test_bad_subscriptions_are_refused(
    made: Flow, live_server: str, admin_payload: dict[str, str], services: Services
) -> None:
    url = f"ws://{live_server}/graphql"
    workflow = await made.workflow({"isPublic": False})  # names nobody: the user may not read
    async with connect(url, admin_payload) as ws:
        assert await _codes(ws, {}) == ["BAD_USER_INPUT"]
        assert await _codes(ws, {"a": made.agent_id, "w": workflow}) == ["BAD_USER_INPUT"]
        assert await _codes(ws, {"a": made.agent_id, "after": "###"}) == ["BAD_USER_INPUT"]
        assert await _codes(ws, {"a": "nonsense"}) == ["BAD_USER_INPUT"]
    secret, _ = await api_key_for(services, USER, "commands")
    async with connect(url, bearer(secret)) as ws:
        assert await _codes(ws, {"w": workflow}) == ["NOT_FOUND"]
    secret, _ = await api_key_for(services, VIEWER, "commands")
    async with connect(url, bearer(secret)) as ws:
        assert await _codes(ws, {"a": made.agent_id}) == ["FORBIDDEN"]
